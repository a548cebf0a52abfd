#ifndef TYPES_H
#define TYPES_H

struct s {
	int a;
	int v[4];
};

#endif
