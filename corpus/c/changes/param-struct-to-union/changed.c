#include "export.h"
#include "changed.h"

int f(union pair *p)
{
	return p != 0;
}
EXPORT(f);
