#include "export.h"

long counter;
EXPORT(counter);
