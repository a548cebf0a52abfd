#include "export.h"

int f(const char *s)
{
	return s[0];
}
EXPORT(f);
