#include "export.h"

int f(const int a)
{
	return a;
}
EXPORT(f);
