#include "export.h"
#include "base.h"

int e_use(enum e v)
{
	return v;
}
EXPORT(e_use);
