#ifndef TYPES_H
#define TYPES_H

struct s {
	int (*cb)(long value);
};

#endif
