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
set -euo pipefail
cd "$(dirname "$0")/.."

host=$(rustc -vV | sed -n 's/^host: //p')
case "$host" in
*-linux-gnu*)
	# Kept in front of whatever RUSTFLAGS the caller set.
	export RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static ${RUSTFLAGS:-}"
	;;
esac
cargo build --release -q --target "$host" -p ksymrules >&2
# (Apart: `--example` would build the examples alone, not the tool.)
[ $# -eq 0 ] || cargo build --release -q --target "$host" "$@" >&2
echo "target/$host/release/ksymrules"
