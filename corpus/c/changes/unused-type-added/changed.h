#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
};

struct unused {
	long x;
};

#endif
