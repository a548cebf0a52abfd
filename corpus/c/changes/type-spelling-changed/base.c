#include "export.h"

unsigned f(long a)
{
	return (unsigned)a;
}
EXPORT(f);
