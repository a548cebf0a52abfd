#ifndef TYPES_H
#define TYPES_H

struct t {
	int a;
};

#endif
