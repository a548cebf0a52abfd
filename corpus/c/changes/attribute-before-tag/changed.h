#ifndef TYPES_H
#define TYPES_H

struct __attribute__((unused)) s {
	long a;
	long b;
};

#endif
