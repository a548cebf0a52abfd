#include "export.h"

long f(int a)
{
	return a;
}
EXPORT(f);
