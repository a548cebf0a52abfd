#ifndef TYPES_H
#define TYPES_H

typedef struct s_tag {
	int a;
} s_t;

#endif
