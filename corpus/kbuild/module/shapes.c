// SPDX-License-Identifier: GPL-2.0
/*
 * kbitmod shapes: exports whose types are unions, arrays, qualifiers,
 * packed and aligned structs, a 128-bit integer, a variadic function, and
 * the kABI-annotated types of kbit.h with their rules.
 */
#include <linux/module.h>
#include <linux/stdarg.h>
#include "kbit.h"

/* Fully defined here, versioned as a declaration with --stable. */
struct kbit_private {
	struct kbit_object *owner;
	struct list_head list;
	unsigned long secret[2];
};
KBIT_DECLONLY(kbit_private);

/* kbit_event gained KBIT_EV_NEW1 and KBIT_EV_NEW2; KBIT_EV_MAX was 3. */
KBIT_ENUMERATOR_IGNORE(kbit_event, KBIT_EV_NEW1);
KBIT_ENUMERATOR_IGNORE(kbit_event, KBIT_EV_NEW2);
KBIT_ENUMERATOR_VALUE(kbit_event, KBIT_EV_MAX, 3);

/* kbit_grown gained "appended" at its end; it was 16 bytes. */
KBIT_BYTE_SIZE(kbit_grown, 16);

/* kbit_legacy as it was, and kbit_gone_fn's old type, with a struct that is gone. */
KBIT_TYPE_STRING("s#kbit_legacy",
	"structure_type kbit_legacy { "
		"member base_type int byte_size(4) encoding(5) a "
		"data_member_location(0) "
	"} byte_size(4)");
KBIT_TYPE_STRING("s#kbit_gone",
	"structure_type kbit_gone { "
		"member base_type unsigned int byte_size(4) encoding(7) x "
		"data_member_location(0) "
	"} byte_size(4)");
KBIT_TYPE_STRING("kbit_gone_fn",
	"subprogram ( "
		"formal_parameter pointer_type { s#kbit_gone } byte_size(8) "
	") -> base_type void");

static struct kbit_private kbit_private_pool[4];

union kbit_key kbit_key_make(u32 lo, u32 hi)
{
	union kbit_key k = { .lo = lo, .hi = hi };

	return k;
}
EXPORT_SYMBOL(kbit_key_make);

struct kbit_stable kbit_stable_default = { .version = 1 };
EXPORT_SYMBOL(kbit_stable_default);

int kbit_stable_update(struct kbit_stable *s, const struct kbit_grown *g)
{
	s->value = (long)g->a;
	s->added_in_hole = (u16)g->appended;
	s->users++;
	return s->version;
}
EXPORT_SYMBOL_GPL(kbit_stable_update);

enum kbit_event kbit_event_last(void)
{
	return KBIT_EV_MAX - 1;
}
EXPORT_SYMBOL(kbit_event_last);

struct kbit_private *kbit_private_get(struct kbit_object *obj)
{
	struct kbit_private *p = &kbit_private_pool[obj->id % 4];

	p->owner = obj;
	return p;
}
EXPORT_SYMBOL(kbit_private_get);

struct kbit_legacy kbit_legacy_handle;
EXPORT_SYMBOL(kbit_legacy_handle);

void kbit_gone_fn(void *p)
{
	kbit_legacy_handle.extra = (long)p;
}
EXPORT_SYMBOL(kbit_gone_fn);

kbit_point_t kbit_points[3][2];
EXPORT_SYMBOL(kbit_points);

static u64 kbit_counter;
const volatile u64 *kbit_volatile_ptr = &kbit_counter;
EXPORT_SYMBOL(kbit_volatile_ptr);

unsigned __int128 kbit_wide_mul(u64 a, u64 b)
{
	return (unsigned __int128)a * b;
}
EXPORT_SYMBOL_GPL(kbit_wide_mul);

bool kbit_is_wide(enum kbit_wide w)
{
	return w == KBIT_WIDE_BIG;
}
EXPORT_SYMBOL(kbit_is_wide);

int kbit_vsum(int n, ...)
{
	va_list ap;
	int sum = 0;

	va_start(ap, n);
	while (n-- > 0)
		sum += va_arg(ap, int);
	va_end(ap);
	return sum;
}
EXPORT_SYMBOL(kbit_vsum);

struct kbit_packed kbit_pack(const struct kbit_aligned *a)
{
	struct kbit_packed p = { .tag = a->small, .value = (u32)a->big };

	return p;
}
EXPORT_SYMBOL(kbit_pack);
