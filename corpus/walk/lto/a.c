struct s { int a; struct s *next; };
struct t { struct s *p; long q; };
int use_s(struct s *x);
int export_a(struct t *t) { return use_s(t->p) + (int)t->q; }
