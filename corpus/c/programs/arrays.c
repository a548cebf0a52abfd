#include "export.h"
#include "arrays.h"

int matrix_sum(const struct matrix *m, int rows[ROWS], const mac_addr mac)
{
	(void)rows;
	(void)mac;
	return m->cells[0][0];
}
EXPORT(matrix_sum);

int lookup_table[2][3][4];
EXPORT(lookup_table);

mac_addr broadcast;
EXPORT(broadcast);

struct matrix *matrices[8];
EXPORT(matrices);

char banner[] = "hello";
EXPORT(banner);
