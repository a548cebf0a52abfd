#include "gen.h"
t0 v0;
t0 v1;
volatile long v2;
static __typeof__(v1) *__gendwarfksyms_ptr_v1 __attribute__((__used__, __section__(".discard.gendwarfksyms"))) = &v1;
static __typeof__(v2) *__gendwarfksyms_ptr_v2 __attribute__((__used__, __section__(".discard.gendwarfksyms"))) = &v2;
