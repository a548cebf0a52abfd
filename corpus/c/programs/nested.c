#include "export.h"
#include "nested.h"

int packet_parse(struct packet *p, const union value *v)
{
	p->kind = v->i;
	return 0;
}
EXPORT(packet_parse);

version_t api_version;
EXPORT(api_version);

float_bits float_split(float f)
{
	float_bits b;
	b.f = f;
	return b;
}
EXPORT(float_split);

struct header *packet_header(struct packet *p)
{
	return &p->hdr;
}
EXPORT(packet_header);
