// SPDX-License-Identifier: GPL-2.0
/*
 * pairmod: a small out-of-tree module built against two kernels' headers by
 * tests/pair/build.sh. Its exports take kernel types that differ between the
 * two kernels (and a few that don't), for `ksymrules compare OLD.ko NEW.ko`.
 */
#include <linux/module.h>
#include <linux/skbuff.h>
#include <linux/netdevice.h>
#include <linux/fs.h>
#include <linux/device.h>
#include <linux/sched.h>

#include "pairmod.h"

unsigned int pairmod_skb_len(const struct sk_buff *skb)
{
	return skb->len;
}
EXPORT_SYMBOL(pairmod_skb_len);

netdev_tx_t pairmod_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev->stats.tx_packets++;
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}
EXPORT_SYMBOL_GPL(pairmod_xmit);

loff_t pairmod_file_pos(const struct file *file)
{
	return file->f_pos;
}
EXPORT_SYMBOL(pairmod_file_pos);

const char *pairmod_dev_name(const struct device *dev)
{
	return dev_name(dev);
}
EXPORT_SYMBOL_GPL(pairmod_dev_name);

pid_t pairmod_task_pid(const struct task_struct *task)
{
	return task->pid;
}
EXPORT_SYMBOL_GPL(pairmod_task_pid);

enum hrtimer_restart pairmod_timer_fn(struct hrtimer *timer)
{
	return HRTIMER_NORESTART;
}
EXPORT_SYMBOL_GPL(pairmod_timer_fn);

void pairmod_stats_reset(struct pairmod_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
}
EXPORT_SYMBOL(pairmod_stats_reset);

int pairmod_add(int a, int b)
{
	return a + b;
}
EXPORT_SYMBOL(pairmod_add);

MODULE_DESCRIPTION("ksymrules test module built against two kernels");
MODULE_LICENSE("GPL");
