#include "export.h"

int f(int count)
{
	return count;
}
EXPORT(f);
