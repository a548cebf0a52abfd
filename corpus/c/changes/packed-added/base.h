#ifndef TYPES_H
#define TYPES_H

struct s {
	char c;
	int x;
};

#endif
