#include "export.h"

int f(int a, long b)
{
	return a + (int)b;
}
EXPORT(f);
