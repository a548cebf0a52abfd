#include "export.h"

int f(int v[4])
{
	return v[0];
}
EXPORT(f);
