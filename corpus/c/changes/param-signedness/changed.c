#include "export.h"

int f(unsigned int a)
{
	return (int)a;
}
EXPORT(f);
