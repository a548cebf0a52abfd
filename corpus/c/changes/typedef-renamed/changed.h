#ifndef TYPES_H
#define TYPES_H

typedef int my_int;

#endif
