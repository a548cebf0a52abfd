/* A union whose kABI placeholder is an unnamed structure pointing back to it. */
union u {
	struct {
		union u *p;
	} __kabi_reserved0;
};
