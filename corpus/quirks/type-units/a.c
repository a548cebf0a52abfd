/* With -fdebug-types-section, struct point lives in a type unit and the
 * compilation unit refers to it by signature: gendwarfksyms prints it as
 * `base_type void`, so a change to struct point changes no version. */
#include "t.h"
int point_sum(struct point *p) { return p->x + p->y; }
