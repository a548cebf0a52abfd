#include "export.h"

struct s {
	int a;
};

int s_use(struct s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
