struct item { int id; };
int item_id(struct item *it);
