#include "export.h"
#include "enums.h"

enum color paint(enum color c, enum errors e, enum bits b)
{
	(void)e;
	(void)b;
	return c;
}
EXPORT(paint);

enum wide wide_value;
EXPORT(wide_value);

mode_t_ current_mode;
EXPORT(current_mode);

int anonymous_enum_user(int flag)
{
	enum { LOCAL_ONE = 1 } local = LOCAL_ONE;
	return flag + local;
}
EXPORT(anonymous_enum_user);
