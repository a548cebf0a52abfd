#include "export.h"

int f(const char *fmt, ...)
{
	return fmt[0];
}
EXPORT(f);
