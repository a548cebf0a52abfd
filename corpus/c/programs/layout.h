/* Layout details: bit-fields, alignment, packing, flexible arrays. */
#ifndef LAYOUT_H
#define LAYOUT_H

struct flags {
	unsigned int ready : 1;
	unsigned int mode : 3;
	int delta : 5;
	unsigned int : 0;
	unsigned char tail : 2;
};

struct wire {
	char kind;
	int len;
	short crc;
} __attribute__((packed));

struct cacheline {
	long hot;
	long cold __attribute__((aligned(64)));
};

struct aligned_whole {
	int a;
} __attribute__((aligned(32)));

struct message {
	unsigned int len;
	struct flags flags;
	unsigned char data[];
};

#endif
