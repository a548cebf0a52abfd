#include "export.h"
#include "base.h"

int f(struct pair *p)
{
	return p != 0;
}
EXPORT(f);
