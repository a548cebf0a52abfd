#include "export.h"

int f(int a)
{
	return a;
}
EXPORT(f);
