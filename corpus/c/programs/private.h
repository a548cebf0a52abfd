/*
 * Public and private types: a type defined in a .c file is opaque to both
 * tools (genksyms writes UNKNOWN, gendwarfksyms does not expand it), and so
 * is a type only declared.
 */
#ifndef PRIVATE_H
#define PRIVATE_H

struct handle;		/* defined in private.c */
struct opaque;		/* never defined */

struct public_info {
	int version;
	struct handle *h;
	struct opaque *o;
};

typedef struct handle handle_t;

#endif
