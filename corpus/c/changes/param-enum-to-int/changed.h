#ifndef TYPES_H
#define TYPES_H

enum mode {
	MODE_A,
	MODE_B,
};

#endif
