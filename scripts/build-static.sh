#!/usr/bin/env bash
# Builds ksymrules as kbuild should run it: a static executable, linked at a
# fixed address, so that a run starts without the dynamic loader (no shared
# libraries to map and relocate, no self-relocation): on the small objects
# kbuild hands it, that is half of a run's time (see README, "Speed").
#
#   scripts/build-static.sh [CARGO_BUILD_ARGS...]
#
# Builds with `cargo build --release --target <host>` and prints the path of
# the ksymrules binary as its last line; extra arguments are a second cargo build
# in the same way (the benchmark passes `-p ksymrules-engine --example small_floor` so that its
# floor is built the same way). The host triple is named explicitly so that
# the flags reach only what runs on it, not the build's proc macros (which
# cannot be built static). Static linking needs glibc's static libraries
# (Debian: libc6-dev). On a host that is not Linux with glibc, it is an
# ordinary release build.
#
# When the linker takes a symbol order (lld, mold: rustc links with its own
# lld on x86_64 Linux), the functions listed in scripts/hot-functions.txt
# are put side by side at the start of the code, so that a run over a small
# object faults in fewer pieces of the program (scripts/hot-functions.sh
# says why and writes the list). KSYMRULES_NO_ORDER=1 builds without it.
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu*)
	# Kept in front of whatever RUSTFLAGS the caller set.
	export RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static ${RUSTFLAGS:-}"
	;;
esac
# Where cargo builds (CARGO_TARGET_DIR, if set, as cargo reads it).
target_dir=${CARGO_TARGET_DIR:-target}
order=()
list=scripts/hot-functions.txt
if [ -z "${KSYMRULES_NO_ORDER:-}" ] && [ -f "$list" ]; then
	# The compiler gives some functions a `.llvm.<number>` suffix (local
	# functions one part of a crate calls in another), and the number
	# changes whenever the code of that crate does. The list names them
	# without it; each is looked for, with its suffix, among the symbols of
	# the crates the tool is linked from, built first. (Without nm, the
	# list as it is: those functions are then left where they fall.)
	mkdir -p "$target_dir/$host"
	resolved=$(mktemp)
	if command -v nm >/dev/null; then
		cargo build --release -q --target "$host" -p ksymrules --lib >&2
		sysroot=$(rustc --print sysroot)
		nm --defined-only -j "$target_dir/$host/release/deps/"*.rlib \
			"$sysroot/lib/rustlib/$host/lib/"*.rlib 2>/dev/null |
			grep '\.llvm\.[0-9]*$' | sort -u >"$resolved.llvm" || true
	else
		: >"$resolved.llvm"
	fi
	awk 'FILENAME == ARGV[1] { base = $0; sub(/\.llvm\.[0-9]+$/, "", base); with[base] = with[base] $0 "\n"; next }
		/^#/ { next }
		{ name = $0; sub(/\.llvm\.[0-9]+$/, "", name); print name; printf "%s", with[name] }' \
		"$resolved.llvm" "$list" >"$resolved"
	# Named by its contents, so that a new order relinks (cargo does not
	# watch the files a link argument names).
	sum=$(cksum <"$resolved" | cut -d' ' -f1)
	copy=$(cd "$target_dir/$host" && pwd)/hot-functions-$sum.txt
	[ -f "$copy" ] || cp "$resolved" "$copy"
	rm -f "$resolved" "$resolved.llvm"
	order=(-C "link-arg=-Wl,--symbol-ordering-file=$copy" -C link-arg=-Wl,--no-warn-symbol-ordering)
	# Does this toolchain's linker take an order? (GNU ld does not.)
	probe=$(mktemp -d)
	echo 'fn main() {}' >"$probe/p.rs"
	if ! rustc ${RUSTFLAGS:-} --target "$host" "${order[@]}" -o "$probe/p" "$probe/p.rs" 2>/dev/null; then
		echo "build-static.sh: the linker takes no symbol order; building without one" >&2
		order=()
	fi
	rm -rf "$probe"
fi
if [ ${#order[@]} -gt 0 ]; then
	cargo rustc --release -q --target "$host" -p ksymrules --bin ksymrules -- "${order[@]}" >&2
else
	cargo build --release -q --target "$host" -p ksymrules >&2
fi
# (Apart: `--example` would build the examples alone, not the tool.)
[ $# -eq 0 ] || cargo build --release -q --target "$host" "$@" >&2
echo "$target_dir/$host/release/ksymrules"
