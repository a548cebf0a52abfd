#include "export.h"

unsigned int f(long int a)
{
	return (unsigned int)a;
}
EXPORT(f);
