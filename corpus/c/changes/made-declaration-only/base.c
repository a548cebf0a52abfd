#include "export.h"
#include "base.h"

int s_use(struct s *p)
{
	return p != 0;
}
EXPORT(s_use);
