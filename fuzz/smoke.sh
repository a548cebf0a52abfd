#!/usr/bin/env bash
# Seeds the fuzz targets from corpus/ and runs each one for a while.
#
#   fuzz/smoke.sh [seconds-per-target] [target...]
#
# CI runs it for about a minute per target. Longer campaigns: pass more
# seconds; crashes land in fuzz/artifacts/<target>/ — fix them and keep the
# input in fuzz/regressions/<target>/ (run by engine/tests/fuzz_regressions.rs).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(object dwarf rules kabi)

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
golden=../corpus/golden
mkdir -p "$seeds"/{object,dwarf,rules,kabi}
i=0
for o in "$golden"/*/*/input.o; do
	cp "$o" "$seeds/object/$i.o"
	i=$((i + 1))
done
for b in 0 1 2 3 4 5 6 7; do printf "\\x$b" > "$seeds/dwarf/base$b"; done
cp ../rules/gendwarfksyms.rules "$seeds/rules/default.rules"
printf 'ksymrules 1\ninclude "default"\nset follow_type_units = true\n' > "$seeds/rules/follow.rules"
for r in ../rules/examples/*.rules; do
	cp "$r" "$seeds/rules/example-$(basename "$r")"
done
# The kABI rules section of every golden kabi object, every architecture,
# read with the engine's own ELF code (binutils' objcopy reads only the
# host's); a seed that cannot be read stops the run.
if [[ " ${targets[*]} " == *" kabi "* ]]; then
	(cd .. && cargo build --release -q -p ksymrules-engine --example section)
	target_dir=${CARGO_TARGET_DIR:-target}
	[[ $target_dir == /* ]] || target_dir=$(cd .. && pwd)/$target_dir
	kabi_objects=0
	for o in "$golden"/kabi/*/input.o; do
		"$target_dir/release/examples/section" .discard.gendwarfksyms.kabi_rules "$o" \
			>"$seeds/kabi/$(basename "$(dirname "$o")").bin"
		kabi_objects=$((kabi_objects + 1))
	done
	kabi_seeds=$(find "$seeds/kabi" -name '*.bin' -size +0 | wc -l)
	if [ "$kabi_objects" -eq 0 ] || [ "$kabi_seeds" -ne "$kabi_objects" ]; then
		echo "kabi seeds: $kabi_seeds non-empty of $kabi_objects objects" >&2
		exit 1
	fi
	echo "== kabi seeds: $kabi_seeds ($(for f in "$seeds"/kabi/*.bin; do basename "$f" .bin; done | tr '\n' ' '))"
fi
for t in "${targets[@]}"; do
	mkdir -p "corpus/$t"
	echo "== fuzz $t for ${secs}s"
	RUSTC_BOOTSTRAP=1 cargo fuzz run -O "$t" "corpus/$t" "$seeds/$t" ../fuzz/regressions/"$t" -- \
		-max_total_time="$secs" -rss_limit_mb=4096 -timeout=20 -print_final_stats=1 2>&1 |
		grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|thread .* panicked|Test unit written|artifact_prefix)' || true
	if [ -n "$(find "artifacts/$t" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | head -n 1)" ]; then
		echo "fuzz $t: findings in fuzz/artifacts/$t" >&2
		exit 1
	fi
done
