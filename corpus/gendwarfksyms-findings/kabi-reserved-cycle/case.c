#include "case.h"

union u v;
