#ifndef TYPES_H
#define TYPES_H

struct s {
	struct inner { int x; long y; } in;
};

#endif
