#include "export.h"

int f(int n)
{
	return n;
}
EXPORT(f);
