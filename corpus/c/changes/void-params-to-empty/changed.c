#include "export.h"

int f()
{
	return 0;
}
EXPORT(f);
