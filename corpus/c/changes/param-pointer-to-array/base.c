#include "export.h"

int f(int *v)
{
	return v[0];
}
EXPORT(f);
