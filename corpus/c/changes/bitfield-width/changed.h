#ifndef TYPES_H
#define TYPES_H

struct s {
	unsigned int mode : 4;
	unsigned int flags : 5;
};

#endif
