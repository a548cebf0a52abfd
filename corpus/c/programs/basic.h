/* Plain public types: the common case of a kernel header. */
#ifndef BASIC_H
#define BASIC_H

typedef unsigned int u32;
typedef unsigned long long u64;
typedef _Bool bool_t;

enum state {
	STATE_IDLE,
	STATE_RUNNING,
	STATE_DONE = 10,
};

struct point {
	int x;
	int y;
};

struct record {
	u32 id;
	u64 stamp;
	enum state state;
	struct point origin;
	char name[16];
	const char *label;
	float ratio;
	double weight;
	long double precise;
	signed char sc;
	unsigned char uc;
	short s;
	unsigned short us;
	long l;
	unsigned long ul;
	long long ll;
	bool_t valid;
};

#endif
