#include "export.h"

void f(char *dst, const char *src)
{
	dst[0] = src[0];
}
EXPORT(f);
