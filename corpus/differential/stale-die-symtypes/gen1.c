#define GEN_UNIT1
#include "gen.h"
void f0(t0 p0, int p1, int (*p2)[1], int p3)
{
}
t0 *f1(void)
{
	static t0 *r;
	return r;
}
static __typeof__(f0) *__gendwarfksyms_ptr_f0 __attribute__((__used__, __section__(".discard.gendwarfksyms"))) = &f0;
