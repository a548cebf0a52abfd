#include "export.h"

int limit = 4;
EXPORT(limit);
