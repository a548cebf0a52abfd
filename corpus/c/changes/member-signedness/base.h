#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	unsigned int b;
};

#endif
