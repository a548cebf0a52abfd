#ifndef TYPES_H
#define TYPES_H

struct s {
	union inner { int x; long y; } in;
};

#endif
