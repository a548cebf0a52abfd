#ifndef TYPES_H
#define TYPES_H

struct s {
	int (*cb)(int value);
};

#endif
