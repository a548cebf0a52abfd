#include "export.h"
#include "layout.h"

int flags_set(struct flags *f, unsigned int mode)
{
	f->mode = mode;
	return f->ready;
}
EXPORT(flags_set);

int wire_send(const struct wire *w, struct cacheline *c)
{
	return w->len + (int)c->hot;
}
EXPORT(wire_send);

struct message *message_alloc(unsigned int len, struct aligned_whole *hint)
{
	(void)len;
	(void)hint;
	return 0;
}
EXPORT(message_alloc);

struct cacheline per_cpu_lines[4];
EXPORT(per_cpu_lines);
