#include "export.h"
#include "base.h"

static long helper(int x)
{
	return x;
}

long other(struct s *p)
{
	return helper(p->a);
}

int s_use(struct s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
