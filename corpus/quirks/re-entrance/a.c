/* handler_t's parameter list leads back to handler_t (through struct ops,
 * expanded for the first time inside it): gendwarfksyms builds its string
 * again while building it, and the inner one, without the separator before
 * `o`, is the one used. */
#include "ops.h"
static int h(int x, struct ops *o) { return x + o->count; }
handler_t default_handler = h;
int ops_count(struct ops *o) { return o->count; }
