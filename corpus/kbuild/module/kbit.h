/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kbitmod: a module with no purpose but its exports, whose types cover what
 * symbol versions from DWARF have to follow: structs, unions (named and
 * anonymous), enums (one wider than int), typedefs, bit-fields, arrays,
 * flexible arrays, qualifiers, function pointers (returning function
 * pointers, variadic), kernel types with large type graphs (struct device,
 * struct file_operations) and kABI annotations (kbit_kabi.h).
 */
#ifndef KBIT_H
#define KBIT_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/kref.h>
#include <linux/spinlock.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/wait.h>
#include <linux/timer.h>
#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/device.h>
#include "kbit_kabi.h"

#define KBIT_NAME_LEN 16

enum kbit_state {
	KBIT_STATE_NEW,
	KBIT_STATE_LIVE,
	KBIT_STATE_DYING = 10,
	KBIT_STATE_DEAD,
};

/* Wider than int: its underlying type is a long one. */
enum kbit_wide {
	KBIT_WIDE_NEG = -1,
	KBIT_WIDE_BIG = 0x7fffffffffffLL,
};

struct kbit_object;
struct kbit_ops;
/* Only declared here; defined in shapes.c. */
struct kbit_private;

typedef u32 kbit_id_t;
typedef int (*kbit_cb_t)(struct kbit_object *obj, void *data);
typedef void (*kbit_release_t)(struct kbit_object *obj);

union kbit_key {
	u64 raw;
	struct {
		u32 lo;
		u32 hi;
	};
	struct {
		u16 w[4];
	} words;
	void *ptr;
};

struct kbit_object {
	struct list_head node;
	struct kref ref;
	spinlock_t lock;
	enum kbit_state state;
	kbit_id_t id;
	union kbit_key key;
	unsigned int flags : 3;
	unsigned int mode : 5;
	unsigned int : 0;
	unsigned int gen : 24;
	const char *name;
	kbit_release_t release;
	const struct kbit_ops *ops;
	struct device *dev;
	struct work_struct work;
	char tag[KBIT_NAME_LEN];
	size_t len;
	u8 data[];
};

struct kbit_ops {
	int (*open)(struct kbit_object *obj, struct file *filp);
	ssize_t (*read)(struct kbit_object *obj, char __user *buf, size_t len,
			loff_t *pos);
	void (*notify)(struct kbit_object *obj, enum kbit_state from,
		       enum kbit_state to);
	long (*ioctl)(struct kbit_object *, unsigned int, unsigned long);
	kbit_cb_t visit;
	/* Returns a callback. */
	int (*(*pick)(const char *name))(struct kbit_object *, void *);
	__printf(1, 2) void (*log)(const char *fmt, ...);
	const struct file_operations *fops;
};

struct kbit_registry {
	struct mutex lock;
	struct list_head objects;
	wait_queue_head_t wait;
	atomic_t count;
	struct timer_list timer;
	struct kbit_object *(*lookup)(struct kbit_registry *reg, kbit_id_t id);
	struct kbit_object *cache[4];
	unsigned long bitmap[BITS_TO_LONGS(64)];
};

typedef struct {
	s32 x, y;
} kbit_point_t;

struct kbit_packed {
	u8 tag;
	u32 value;
	u16 pair[2];
} __packed;

struct kbit_aligned {
	u8 small;
	u64 big __aligned(16);
} __aligned(32);

/* --- kABI-annotated types (see the rules in shapes.c) --- */

/* Grew into an alignment hole, renamed a member, used reserved space. */
struct kbit_stable {
	int version;
	KBIT_IGNORE(0, u16 added_in_hole);
	long value;
	KBIT_RENAME(int, count, users);
	KBIT_USE(1, union kbit_key *key);
	KBIT_RESERVE(2);
	KBIT_RESERVE(3);
};

/* Grew at its end; versioned with its old size. */
struct kbit_grown {
	unsigned long a;
	void *p;
	KBIT_IGNORE(1, unsigned long appended);
};

/* Gained enumerators before its end marker; versioned as before. */
enum kbit_event {
	KBIT_EV_NONE,
	KBIT_EV_ADD,
	KBIT_EV_DEL,
	KBIT_EV_NEW1,
	KBIT_EV_NEW2,
	KBIT_EV_MAX,
};

/* Versioned through a type string as it was before it gained "extra". */
struct kbit_legacy {
	int a;
	long extra;
};

/* core.c */
extern struct kbit_registry kbit_registry;
extern int kbit_debug;
extern const char *const kbit_state_names[];
struct kbit_object *kbit_object_new(const char *name, size_t len, gfp_t gfp);
void kbit_object_put(struct kbit_object *obj);
int kbit_for_each(kbit_cb_t cb, void *data);
enum kbit_state kbit_object_state(const struct kbit_object *obj);
/* Defined in core.c, exported from ops.c. */
unsigned long kbit_hash(const void *p, size_t n, u32 seed);

/* shapes.c */
union kbit_key kbit_key_make(u32 lo, u32 hi);
extern struct kbit_stable kbit_stable_default;
int kbit_stable_update(struct kbit_stable *s, const struct kbit_grown *g);
enum kbit_event kbit_event_last(void);
struct kbit_private *kbit_private_get(struct kbit_object *obj);
extern struct kbit_legacy kbit_legacy_handle;
void kbit_gone_fn(void *p);
extern kbit_point_t kbit_points[3][2];
extern const volatile u64 *kbit_volatile_ptr;
unsigned __int128 kbit_wide_mul(u64 a, u64 b);
bool kbit_is_wide(enum kbit_wide w);
int kbit_vsum(int n, ...);
struct kbit_packed kbit_pack(const struct kbit_aligned *a);

/* ops.c */
extern const struct kbit_ops kbit_default_ops;
extern const struct file_operations kbit_fops;
extern void (*kbit_hook)(struct kbit_object *obj, enum kbit_event ev);
int kbit_register_ops(struct kbit_object *obj, const struct kbit_ops *ops);
kbit_cb_t kbit_pick(const char *name);
int (*kbit_pick_raw(const char *name))(struct kbit_object *, void *);

#endif /* KBIT_H */
