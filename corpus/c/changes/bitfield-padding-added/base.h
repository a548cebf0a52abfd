#ifndef TYPES_H
#define TYPES_H

struct s {
	unsigned int mode : 3;
	unsigned int flags : 5;
};

#endif
