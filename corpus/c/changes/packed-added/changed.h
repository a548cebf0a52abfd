#ifndef TYPES_H
#define TYPES_H

struct s {
	char c;
	int x;
} __attribute__((packed));

#endif
