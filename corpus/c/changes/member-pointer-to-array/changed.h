#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	char name[8];
};

#endif
