#include "export.h"
#include "base.h"

int s_use(struct s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
