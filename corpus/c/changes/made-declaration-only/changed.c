#include "export.h"
#include "changed.h"

int s_use(struct s *p)
{
	return p != 0;
}
EXPORT(s_use);
