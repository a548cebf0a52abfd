#include "export.h"

int counter;
EXPORT(counter);
