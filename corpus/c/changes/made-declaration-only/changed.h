#ifndef TYPES_H
#define TYPES_H

struct s;

#endif
