#include "export.h"
#include "changed.h"

int f(u32 a)
{
	return (int)a;
}
EXPORT(f);
