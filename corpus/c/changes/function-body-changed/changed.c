#include "export.h"

int f(int a)
{
	int b = a * 2;

	return b - a;
}
EXPORT(f);
