struct s { int a; struct s *next; };
int use_s(struct s *x) { return x ? x->a + use_s(x->next) : 0; }
struct s *export_b(struct s *x) { return x->next; }
