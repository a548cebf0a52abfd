/* A zero-sized object placed at the next object's address: the two
 * exports are aliases to gendwarfksyms, and get one CRC. */
struct empty { };
struct empty marker __attribute__((section(".data.pair")));
long counter __attribute__((section(".data.pair"))) = 1;
