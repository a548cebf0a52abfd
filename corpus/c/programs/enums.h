/* Enumerations: implicit, negative, large, hexadecimal and computed values. */
#ifndef ENUMS_H
#define ENUMS_H

enum color { RED, GREEN, BLUE };

enum errors {
	ERR_NONE = 0,
	ERR_NOMEM = -12,
	ERR_INVAL = -22,
};

enum bits {
	BIT_A = 1 << 0,
	BIT_B = 1 << 1,
	BIT_C = 0x10,
	BIT_ALL = BIT_A | BIT_B | BIT_C,
};

enum wide {
	WIDE_SMALL = 1,
	WIDE_BIG = 0x100000000LL,
};

typedef enum {
	MODE_A,
	MODE_B,
} mode_t_;

#endif
