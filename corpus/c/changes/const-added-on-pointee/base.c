#include "export.h"

int f(char *s)
{
	return s[0];
}
EXPORT(f);
