#include "export.h"

int f(long a)
{
	return (int)a;
}
EXPORT(f);
