#ifndef TYPES_H
#define TYPES_H

union pair {
	int a;
	long b;
};

#endif
