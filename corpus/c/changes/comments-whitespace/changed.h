#ifndef TYPES_H
#define TYPES_H

/* a comment */
struct s
{
    int  a;   // the first member

    long b;   /* the second */
};

#endif
