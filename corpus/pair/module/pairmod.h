/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pairmod's exports. The struct is defined here rather than in pairmod.c:
 * gendwarfksyms (and ksymrules' default rules) treat definitions in .c files
 * as private and don't expand them into versions.
 */
#ifndef PAIRMOD_H
#define PAIRMOD_H

#include <linux/types.h>
#include <linux/netdevice.h>
#include <linux/hrtimer.h>
#include <net/snmp.h>

struct sk_buff;
struct file;
struct device;
struct task_struct;

/* Arrays bounded by the kernels' *_MAX enumerators, and a kernel enum. */
struct pairmod_stats {
	unsigned long linux_mib[LINUX_MIB_MAX];
	u64 ipstats[IPSTATS_MIB_MAX];
	enum hrtimer_restart last;
};

unsigned int pairmod_skb_len(const struct sk_buff *skb);
netdev_tx_t pairmod_xmit(struct sk_buff *skb, struct net_device *dev);
loff_t pairmod_file_pos(const struct file *file);
const char *pairmod_dev_name(const struct device *dev);
pid_t pairmod_task_pid(const struct task_struct *task);
enum hrtimer_restart pairmod_timer_fn(struct hrtimer *timer);
void pairmod_stats_reset(struct pairmod_stats *stats);
int pairmod_add(int a, int b);

#endif /* PAIRMOD_H */
