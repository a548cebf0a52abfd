#include "export.h"
#include "quals.h"

void *buffer_copy(void *restrict dst, const void *restrict src, unsigned long n)
{
	(void)src;
	(void)n;
	return dst;
}
EXPORT(buffer_copy);

int buffer_printf(struct buffer *b, const char *fmt, ...)
{
	(void)b;
	(void)fmt;
	return 0;
}
EXPORT(buffer_printf);

int no_params(void)
{
	return 0;
}
EXPORT(no_params);

int old_style()
{
	return 0;
}
EXPORT(old_style);

const int answer = 42;
EXPORT(answer);

volatile unsigned long jiffies;
EXPORT(jiffies);

const struct buffer *const default_buffer;
EXPORT(default_buffer);

void buffer_flush(const volatile struct buffer *b, const int flags)
{
	(void)b;
	(void)flags;
}
EXPORT(buffer_flush);
