#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	long b;
};

#endif
