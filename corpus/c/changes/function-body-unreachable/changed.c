#include "export.h"

int f(int a, long b)
{
	__builtin_unreachable();
}
EXPORT(f);
