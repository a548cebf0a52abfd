#include "export.h"

int f(long b, int a)
{
	return a + (int)b;
}
EXPORT(f);
