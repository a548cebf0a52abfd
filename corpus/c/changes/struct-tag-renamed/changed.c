#include "export.h"
#include "changed.h"

int s_use(struct t *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
