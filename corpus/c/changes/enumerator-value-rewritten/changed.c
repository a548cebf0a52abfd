#include "export.h"
#include "changed.h"

int e_use(enum e v)
{
	return v;
}
EXPORT(e_use);
