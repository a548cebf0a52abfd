/* Unions, anonymous members and nested type definitions. */
#ifndef NESTED_H
#define NESTED_H

union value {
	int i;
	long l;
	double d;
	void *p;
};

struct packet {
	int kind;
	union {
		struct {
			unsigned short port;
			unsigned short proto;
		};
		unsigned int raw;
	};
	struct header {
		unsigned char version;
		unsigned char flags;
	} hdr;
	struct {
		int count;
		union value values[4];
	} payload;
	enum { PRIO_LOW, PRIO_HIGH } prio;
};

typedef struct {
	int major;
	int minor;
} version_t;

typedef union {
	float f;
	unsigned int bits;
} float_bits;

#endif
