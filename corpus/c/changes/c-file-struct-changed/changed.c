#include "export.h"

struct s {
	int a;
	long b;
};

int s_use(struct s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
