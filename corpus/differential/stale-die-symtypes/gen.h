#ifndef GEN_H
#define GEN_H
#ifdef GEN_UNIT1
#define GEN_UNIT1_ONLY(x) x
#else
#define GEN_UNIT1_ONLY(x)
#endif
typedef int (*t0)(unsigned int *, int **);
#endif
