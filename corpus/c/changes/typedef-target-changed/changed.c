#include "export.h"
#include "changed.h"

myint t_use(myint v)
{
	return v;
}
EXPORT(t_use);
