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
for o in "$golden"/kabi/*/input.o; do
	objcopy -O binary --only-section=.discard.gendwarfksyms.kabi_rules "$o" \
		"$seeds/kabi/$(basename "$(dirname "$o")").bin" 2>/dev/null || true
done
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
