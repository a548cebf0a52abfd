/*
 * EXPORT(sym); marks sym as exported, the way the kernel's EXPORT_SYMBOL
 * does for genksyms: preprocessed with -D__GENKSYMS__ it becomes
 * __GENKSYMS_EXPORT_SYMBOL(sym), which genksyms versions; compiled normally
 * it is a no-op declaration that leaves nothing in the DWARF.
 */
#ifndef CORPUS_EXPORT_H
#define CORPUS_EXPORT_H

#ifdef __GENKSYMS__
#define EXPORT(sym) __GENKSYMS_EXPORT_SYMBOL(sym)
#else
#define EXPORT(sym) _Static_assert(1, #sym)
#endif

#endif
