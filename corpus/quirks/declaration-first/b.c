#include "api.h"
int item_id(struct item *it) { return it->id; }
