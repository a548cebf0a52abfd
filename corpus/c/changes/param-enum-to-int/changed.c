#include "export.h"
#include "changed.h"

int f(int m)
{
	return m;
}
EXPORT(f);
