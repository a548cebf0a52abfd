#include "export.h"
#include "base.h"

int s_use(s_t *p)
{
	return p->a;
}
EXPORT(s_use);
