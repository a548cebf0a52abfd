#ifndef TYPES_H
#define TYPES_H

enum e {
	E_A,
	E_B,
};

#endif
