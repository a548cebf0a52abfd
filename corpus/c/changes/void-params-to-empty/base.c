#include "export.h"

int f(void)
{
	return 0;
}
EXPORT(f);
