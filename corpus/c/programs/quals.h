/* Qualifiers, void, variadic and unprototyped functions. */
#ifndef QUALS_H
#define QUALS_H

struct buffer {
	volatile unsigned int head;
	const volatile unsigned int *tail;
	char *const base;
	const char *const *strings;
};

#endif
