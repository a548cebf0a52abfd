#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	int mid;
	long b;
};

#endif
