#ifndef TYPES_H
#define TYPES_H

union s {
	int a;
	long b;
};

#endif
