#ifndef TYPES_H
#define TYPES_H

typedef struct {
	int a;
} s_t;

#endif
