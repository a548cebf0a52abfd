#include "export.h"

void f(char *restrict dst, const char *src)
{
	dst[0] = src[0];
}
EXPORT(f);
