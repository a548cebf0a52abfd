#include "export.h"
#include "base.h"

int f(enum mode m)
{
	return m;
}
EXPORT(f);
