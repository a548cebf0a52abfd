// SPDX-License-Identifier: GPL-2.0
/*
 * kbitmod core: objects and their registry. Exports variables and
 * functions, one into a symbol namespace; kbit_hash is defined here but
 * exported from ops.c.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "kbit.h"

/* With --stable, struct device is versioned as a declaration in this object. */
KBIT_DECLONLY(device);

struct kbit_registry kbit_registry;
EXPORT_SYMBOL_GPL(kbit_registry);

int kbit_debug;
EXPORT_SYMBOL(kbit_debug);

const char *const kbit_state_names[] = {
	[KBIT_STATE_NEW] = "new",
	[KBIT_STATE_LIVE] = "live",
	[KBIT_STATE_DYING] = "dying",
	[KBIT_STATE_DEAD] = "dead",
};
EXPORT_SYMBOL(kbit_state_names);

static void kbit_release_default(struct kbit_object *obj)
{
	kfree(obj);
}

static void kbit_object_release(struct kref *ref)
{
	struct kbit_object *obj = container_of(ref, struct kbit_object, ref);

	mutex_lock(&kbit_registry.lock);
	list_del(&obj->node);
	atomic_dec(&kbit_registry.count);
	mutex_unlock(&kbit_registry.lock);
	obj->state = KBIT_STATE_DEAD;
	obj->release(obj);
}

static void kbit_object_work(struct work_struct *work)
{
	struct kbit_object *obj = container_of(work, struct kbit_object, work);

	obj->state = KBIT_STATE_LIVE;
}

struct kbit_object *kbit_object_new(const char *name, size_t len, gfp_t gfp)
{
	struct kbit_object *obj = kzalloc(struct_size(obj, data, len), gfp);

	if (!obj)
		return NULL;
	kref_init(&obj->ref);
	spin_lock_init(&obj->lock);
	INIT_WORK(&obj->work, kbit_object_work);
	obj->name = name;
	strscpy(obj->tag, name, sizeof(obj->tag));
	obj->len = len;
	obj->key.lo = (u32)kbit_hash(name, strlen(name), 0);
	obj->release = kbit_release_default;
	mutex_lock(&kbit_registry.lock);
	list_add_tail(&obj->node, &kbit_registry.objects);
	obj->id = atomic_inc_return(&kbit_registry.count);
	mutex_unlock(&kbit_registry.lock);
	return obj;
}
EXPORT_SYMBOL_GPL(kbit_object_new);

void kbit_object_put(struct kbit_object *obj)
{
	if (obj)
		kref_put(&obj->ref, kbit_object_release);
}
EXPORT_SYMBOL_GPL(kbit_object_put);

int kbit_for_each(kbit_cb_t cb, void *data)
{
	struct kbit_object *obj;
	int ret = 0;

	mutex_lock(&kbit_registry.lock);
	list_for_each_entry(obj, &kbit_registry.objects, node) {
		ret = cb(obj, data);
		if (ret)
			break;
	}
	mutex_unlock(&kbit_registry.lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(kbit_for_each, "KBIT");

enum kbit_state kbit_object_state(const struct kbit_object *obj)
{
	return READ_ONCE(obj->state);
}
EXPORT_SYMBOL(kbit_object_state);

unsigned long kbit_hash(const void *p, size_t n, u32 seed)
{
	const u8 *b = p;
	unsigned long h = seed ^ 0x9e3779b9UL;

	while (n--)
		h = (h << 5) + h + *b++;
	return h;
}

static struct kbit_object *kbit_lookup(struct kbit_registry *reg, kbit_id_t id)
{
	struct kbit_object *obj;

	list_for_each_entry(obj, &reg->objects, node)
		if (obj->id == id)
			return obj;
	return NULL;
}

static void kbit_timer_fn(struct timer_list *t)
{
}

static int __init kbit_init(void)
{
	mutex_init(&kbit_registry.lock);
	INIT_LIST_HEAD(&kbit_registry.objects);
	init_waitqueue_head(&kbit_registry.wait);
	timer_setup(&kbit_registry.timer, kbit_timer_fn, 0);
	kbit_registry.lookup = kbit_lookup;
	return 0;
}

static void __exit kbit_exit(void)
{
	timer_delete_sync(&kbit_registry.timer);
}

module_init(kbit_init);
module_exit(kbit_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ksymrules kbuild test module (exports only)");
