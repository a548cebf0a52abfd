struct ops;
typedef int (*handler_t)(int x, struct ops *o);
struct ops {
	handler_t fn;
	int count;
};
