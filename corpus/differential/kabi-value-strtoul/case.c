#include "case.h"

enum e ev;
struct s sv;

/* Values that strtoul() reads (a sign wraps around, leading blanks pass). */
static const char r0[] __attribute__((__used__, __aligned__(1),
	__section__(".discard.gendwarfksyms.kabi_rules"))) =
	"1\0" "enumerator_value" "\0" "e B" "\0" "-10";
static const char r1[] __attribute__((__used__, __aligned__(1),
	__section__(".discard.gendwarfksyms.kabi_rules"))) =
	"1\0" "byte_size" "\0" "s" "\0" " +7";
