#include "export.h"
#include "basic.h"

int record_init(struct record *r, u32 id, const char *label)
{
	r->id = id;
	r->label = label;
	return 0;
}
EXPORT(record_init);

struct point record_origin(const struct record *r)
{
	return r->origin;
}
EXPORT(record_origin);

void record_reset(struct record *r)
{
	r->state = STATE_IDLE;
}
EXPORT(record_reset);

enum state current_state;
EXPORT(current_state);

struct record default_record;
EXPORT(default_record);

u64 counter;
EXPORT(counter);

/* Not exported: versioned by neither tool. */
static int helper(int x)
{
	return x + 1;
}

int use_helper(int x)
{
	return helper(x);
}
