/* Two units define struct conf differently (in headers, so that it is
 * expanded), with strings of one length: gendwarfksyms keeps whichever
 * its hash table meets first. */
#include "a.h"
int conf_a(struct conf *c) { return c->alpha; }
