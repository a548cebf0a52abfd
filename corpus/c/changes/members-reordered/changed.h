#ifndef TYPES_H
#define TYPES_H

struct s {
	long b;
	int a;
};

#endif
