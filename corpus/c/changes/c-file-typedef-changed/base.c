#include "export.h"

typedef struct {
	int a;
} cfg_t;

int cfg_use(cfg_t *p)
{
	return p->a;
}
EXPORT(cfg_use);
