#include "case.h"

enum e ev;

/* A rule for an enumerator that exists nowhere, with a value that is no number. */
static const char r0[] __attribute__((__used__, __aligned__(1),
	__section__(".discard.gendwarfksyms.kabi_rules"))) =
	"1\0" "enumerator_value" "\0" "nowhere X" "\0" "x";
