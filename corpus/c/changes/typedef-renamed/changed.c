#include "export.h"
#include "changed.h"

my_int t_use(my_int v)
{
	return v;
}
EXPORT(t_use);
