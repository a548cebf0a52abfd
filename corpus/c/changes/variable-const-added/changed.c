#include "export.h"

const int limit = 4;
EXPORT(limit);
