#include "export.h"
#include "base.h"

int f(unsigned int a)
{
	return (int)a;
}
EXPORT(f);
