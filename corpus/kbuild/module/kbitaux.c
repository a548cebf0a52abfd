// SPDX-License-Identifier: GPL-2.0
/*
 * kbitaux: a second module that uses kbitmod's exports (its .mod.c lists
 * their versions) and exports a struct that embeds kbitmod's kABI-annotated
 * struct kbit_stable, with no kABI rules of its own.
 */
#include <linux/module.h>
#include <linux/rculist.h>
#include <linux/ktime.h>
#include "kbit.h"

MODULE_IMPORT_NS("KBIT");

struct kbit_aux {
	struct kbit_object *obj;
	struct kbit_stable st;
	struct hlist_node hnode;
	struct rcu_head rcu;
	ktime_t when;
	enum kbit_event last;
};

int kbit_aux_attach(struct kbit_aux *aux, struct kbit_object *obj);
extern struct kbit_aux *kbit_aux_default;

static int kbit_aux_visit(struct kbit_object *obj, void *data)
{
	return obj == data;
}

int kbit_aux_attach(struct kbit_aux *aux, struct kbit_object *obj)
{
	if (kbit_object_state(obj) == KBIT_STATE_DEAD)
		return -ENOENT;
	aux->obj = obj;
	aux->when = ktime_get();
	aux->last = kbit_event_last();
	return kbit_for_each(kbit_aux_visit, obj);
}
EXPORT_SYMBOL_GPL(kbit_aux_attach);

struct kbit_aux *kbit_aux_default;
EXPORT_SYMBOL(kbit_aux_default);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ksymrules kbuild test module (uses kbitmod)");
