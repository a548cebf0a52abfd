/* A static array that happens to share the exported function's name, in
 * a unit linked first (as kernel/pid_namespace.c's kern_path[] in
 * Debian's 6.1 vmlinux): first DIE wins. */
static int kern_path[4] = { 1, 2, 3, 4 };
int path_slot(int i) { return kern_path[i & 3]; }
