#include "export.h"
#include "changed.h"

int s_use(union s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
