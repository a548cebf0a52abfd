// SPDX-License-Identifier: GPL-2.0
/*
 * kbitmod ops: tables and variables of function pointers, functions that
 * return function pointers, a file_operations table, and the export of
 * kbit_hash, which core.c defines.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/string.h>
#include "kbit.h"

EXPORT_SYMBOL(kbit_hash);

static int kbit_visit_count(struct kbit_object *obj, void *data)
{
	(*(int *)data)++;
	return 0;
}

static int kbit_visit_stop(struct kbit_object *obj, void *data)
{
	return obj == data;
}

kbit_cb_t kbit_pick(const char *name)
{
	return strcmp(name, "stop") ? kbit_visit_count : kbit_visit_stop;
}
EXPORT_SYMBOL(kbit_pick);

int (*kbit_pick_raw(const char *name))(struct kbit_object *, void *)
{
	return kbit_pick(name);
}
EXPORT_SYMBOL_GPL(kbit_pick_raw);

static int kbit_open(struct kbit_object *obj, struct file *filp)
{
	filp->private_data = obj;
	return 0;
}

static ssize_t kbit_read(struct kbit_object *obj, char __user *buf, size_t len,
			 loff_t *pos)
{
	return 0;
}

static ssize_t kbit_fop_read(struct file *filp, char __user *buf, size_t len,
			     loff_t *pos)
{
	struct kbit_object *obj = filp->private_data;

	return obj->ops->read(obj, buf, len, pos);
}

const struct file_operations kbit_fops = {
	.owner = THIS_MODULE,
	.read = kbit_fop_read,
	.llseek = noop_llseek,
};
EXPORT_SYMBOL(kbit_fops);

const struct kbit_ops kbit_default_ops = {
	.open = kbit_open,
	.read = kbit_read,
	.visit = kbit_visit_count,
	.pick = kbit_pick_raw,
	.fops = &kbit_fops,
};
EXPORT_SYMBOL_GPL(kbit_default_ops);

void (*kbit_hook)(struct kbit_object *obj, enum kbit_event ev);
EXPORT_SYMBOL(kbit_hook);

int kbit_register_ops(struct kbit_object *obj, const struct kbit_ops *ops)
{
	if (!ops->read)
		return -EINVAL;
	obj->ops = ops;
	if (kbit_hook)
		kbit_hook(obj, KBIT_EV_ADD);
	return 0;
}
EXPORT_SYMBOL(kbit_register_ops);
