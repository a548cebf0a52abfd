#include "export.h"
#include "changed.h"

int s_use(s_t *p)
{
	return p->a;
}
EXPORT(s_use);
