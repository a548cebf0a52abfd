#include "export.h"
#include "changed.h"

int s_use(struct s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
