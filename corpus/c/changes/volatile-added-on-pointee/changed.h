#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	volatile unsigned int *reg;
};

#endif
