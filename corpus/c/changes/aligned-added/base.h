#ifndef TYPES_H
#define TYPES_H

struct s {
	long a;
	long b;
};

#endif
