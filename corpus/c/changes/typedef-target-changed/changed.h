#ifndef TYPES_H
#define TYPES_H

typedef long myint;

#endif
