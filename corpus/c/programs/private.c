#include "export.h"
#include "private.h"

struct handle {
	int refcount;
	struct public_info info;
};

struct local_config {
	int verbose;
};

handle_t *handle_open(const struct public_info *info, struct local_config *cfg)
{
	(void)info;
	(void)cfg;
	return 0;
}
EXPORT(handle_open);

void handle_close(struct handle *h, struct opaque *o)
{
	(void)h;
	(void)o;
}
EXPORT(handle_close);

struct local_config global_config;
EXPORT(global_config);

typedef struct {
	int a;
} local_anon_t;

local_anon_t local_anon;
EXPORT(local_anon);
