#include "export.h"
#include "base.h"

myint t_use(myint v)
{
	return v;
}
EXPORT(t_use);
