enum e { A, B };
struct s { long x; };
