#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	int v[2 + 2];
};

#endif
