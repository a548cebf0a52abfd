#ifndef TYPES_H
#define TYPES_H

struct pair {
	int a;
	long b;
};

#endif
