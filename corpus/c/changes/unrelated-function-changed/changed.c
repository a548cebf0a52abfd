#include "export.h"
#include "changed.h"

static long helper(long x, long y)
{
	return x + y;
}

long other(struct s *p, long k)
{
	return helper(p->a, k);
}

int s_use(struct s *p)
{
	return (int)sizeof(*p);
}
EXPORT(s_use);
