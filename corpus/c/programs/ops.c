#include "export.h"
#include "ops.h"

int device_register(struct device *dev, const struct device_ops *ops)
{
	dev->ops = ops;
	return 0;
}
EXPORT(device_register);

void device_for_each(struct list_head *head, int (*fn)(struct device *, void *), void *data)
{
	(void)head;
	(void)fn;
	(void)data;
}
EXPORT(device_for_each);

probe_fn default_probe;
EXPORT(default_probe);

int device_log(struct device *dev, const char *fmt, ...)
{
	(void)dev;
	(void)fmt;
	return 0;
}
EXPORT(device_log);
