#!/bin/sh
# Rebuilds the objects of corpus/quirks/ (committed, so that tests do not
# depend on the compiler at hand): each .c compiled with the command in the
# directory's `cc` file (default: gcc -g -gdwarf-5 -O0), the units linked
# with ld -r in name order.
set -eu
cd "$(dirname "$0")"
for d in */; do
	d=${d%/}
	objs=
	cc="gcc -g -gdwarf-5 -O0"
	[ -f "$d/cc" ] && cc=$(cat "$d/cc")
	for c in "$d"/*.c; do
		o=${c%.c}.o
		# shellcheck disable=SC2086
		$cc -c "$c" -o "$o"
		objs="$objs $o"
	done
	# shellcheck disable=SC2086
	ld -r $objs -o "$d/input.o"
	# shellcheck disable=SC2086
	rm -f $objs
done
