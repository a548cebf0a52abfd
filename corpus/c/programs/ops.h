/* Function pointers, operation tables and self-referential types. */
#ifndef OPS_H
#define OPS_H

struct device;

struct list_head {
	struct list_head *next, *prev;
};

typedef int (*probe_fn)(struct device *dev, void *data);

struct device_ops {
	probe_fn probe;
	void (*remove)(struct device *dev);
	long (*ioctl)(struct device *dev, unsigned int cmd, unsigned long arg);
	int (*printf)(struct device *dev, const char *fmt, ...);
	struct device *(*parent)(const struct device *dev);
};

struct device {
	const char *name;
	struct list_head node;
	const struct device_ops *ops;
	struct device *parent;
	void *private_data;
};

#endif
