/* clang (DWARF 4) places bit-fields with DW_AT_bit_offset, which the
 * rules do not print: a bit-field moving inside its storage unit changes
 * no version. */
#include "f.h"
unsigned int flags_level(struct flags *f) { return f->level; }
