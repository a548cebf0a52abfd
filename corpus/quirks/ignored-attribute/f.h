struct flags {
	unsigned int mode : 3;
	unsigned int level : 5;
};
