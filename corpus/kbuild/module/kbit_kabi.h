/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kABI annotations for kbitmod, written for this test from the interface
 * described in the kernel's Documentation/kbuild/gendwarfksyms.rst (the
 * 7.3 tree has no public header with such macros).
 *
 * Rules: each one is four NUL-terminated strings in the object's
 * .discard.gendwarfksyms.kabi_rules section -- the format version ("1"),
 * the kind of rule, its target (a type's name, "enum enumerator", or a
 * symbol) and a value. The linker discards the section; only the symbol
 * versioning tool reads it, and only with --stable
 * (KBUILD_GENDWARFKSYMS_STABLE=1).
 *
 * Members: with --stable, a member whose name starts with __kabi_ is
 * versioned without its name; a union whose first member is
 * __kabi_reserved<N> is versioned as that reserved member; one whose first
 * member is __kabi_renamed<old> as a member named <old>; one with a member
 * named __kabi_ignored<N> is not versioned at all.
 */
#ifndef KBIT_KABI_H
#define KBIT_KABI_H

#include <linux/compiler.h>

#define KBIT_RULE_VAR(n) __PASTE(kbit_kabi_rule_, n)
#define KBIT_RULE(kind, target, value)						\
	static const char KBIT_RULE_VAR(__COUNTER__)[] __used __aligned(1)	\
	__section(".discard.gendwarfksyms.kabi_rules") =			\
		"1" "\0" kind "\0" target "\0" value

/* Version struct/union/enum TAG as if only declared. */
#define KBIT_DECLONLY(tag) KBIT_RULE("declonly", #tag, "")
/* Leave enumerator NAME of enum TAG out. */
#define KBIT_ENUMERATOR_IGNORE(tag, name) \
	KBIT_RULE("enumerator_ignore", #tag " " #name, "")
/* Version enumerator NAME of enum TAG with the value VAL. */
#define KBIT_ENUMERATOR_VALUE(tag, name, val) \
	KBIT_RULE("enumerator_value", #tag " " #name, #val)
/* Version struct TAG with the size SIZE (in bytes). */
#define KBIT_BYTE_SIZE(tag, size) KBIT_RULE("byte_size", #tag, #size)
/* Version the type ("s#tag") or the symbol TARGET as the type string STR. */
#define KBIT_TYPE_STRING(target, str) KBIT_RULE("type_string", target, str)

/* A member kept free for later use (an unsigned long's worth). */
#define KBIT_RESERVE(n) unsigned long __kabi_reserved##n
/* Reserved member N taken into use by the member declared as DECL. */
#define KBIT_USE(n, decl)				\
	union {						\
		unsigned long __kabi_reserved##n;	\
		decl;					\
	}
/* A member added where it changes no layout (a hole, or past the end). */
#define KBIT_IGNORE(n, decl)				\
	union {						\
		unsigned char __kabi_ignored##n;	\
		decl;					\
	}
/* Member OLD of type TYPE renamed to NEW. */
#define KBIT_RENAME(type, old, new)			\
	union {						\
		type __kabi_renamed##old;		\
		type new;				\
	}

#endif /* KBIT_KABI_H */
