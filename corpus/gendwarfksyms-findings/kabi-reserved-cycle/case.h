/* A union whose kABI placeholder leads back to the union itself. */
union u {
	long m;
	union u *__kabi_reserved0;
};
