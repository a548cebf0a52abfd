/* Arrays of every shape. */
#ifndef ARRAYS_H
#define ARRAYS_H

#define ROWS 3
#define COLS (ROWS + 1)

struct matrix {
	int cells[ROWS][COLS];
	const char *names[ROWS];
	int (*row)[COLS];
	char tag[0];
};

typedef unsigned char mac_addr[6];

#endif
