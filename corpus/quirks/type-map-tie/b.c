#include "b.h"
int conf_b(struct conf *c) { return c->omega; }
