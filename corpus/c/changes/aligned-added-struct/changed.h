#ifndef TYPES_H
#define TYPES_H

struct s {
	long a;
} __attribute__((aligned(16)));

#endif
