/* a.c calls item_id, so its unit holds a declaration of it (parameters
 * without names); linked before b.c, that declaration describes the
 * export: first DIE wins. */
#include "api.h"
int first_id(struct item *it) { return item_id(it); }
