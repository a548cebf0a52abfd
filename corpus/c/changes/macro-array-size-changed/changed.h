#ifndef TYPES_H
#define TYPES_H

#define NAME_LEN 16

struct s {
	char name[NAME_LEN];
};

#endif
