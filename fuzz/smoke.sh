#!/usr/bin/env bash
# Seeds the fuzz targets from corpus/ (and ../shared, the symtypes target)
# and runs each one for a while.
#
#   fuzz/smoke.sh [seconds-per-target] [target...]
#
# CI runs it for about a minute per target. Longer campaigns: pass more
# seconds; crashes land in fuzz/artifacts/<target>/ — fix them and keep the
# input in fuzz/regressions/<target>/ (run by engine/tests/fuzz_regressions.rs,
# and compare/tests/fuzz_regressions.rs for symtypes).
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(object dwarf rules kabi symtypes abbrev)

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
golden=../corpus/golden
mkdir -p "$seeds"/{object,dwarf,rules,kabi,symtypes,abbrev}
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
# Sections of the golden objects are read with the engine's own ELF code
# (binutils' objcopy reads only the host's architecture).
section() {
	if [ -z "${section_bin:-}" ]; then
		(cd .. && cargo build --release -q -p ksymrules-engine --example section)
		local target_dir=${CARGO_TARGET_DIR:-target}
		[[ $target_dir == /* ]] || target_dir=$(cd .. && pwd)/$target_dir
		section_bin=$target_dir/release/examples/section
	fi
	"$section_bin" "$@"
}
# The kABI rules section of every golden kabi object, every architecture;
# a seed that cannot be read stops the run.
if [[ " ${targets[*]} " == *" kabi "* ]]; then
	kabi_objects=0
	for o in "$golden"/kabi/*/input.o; do
		section .discard.gendwarfksyms.kabi_rules "$o" \
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
# abbrev: the .debug_abbrev section of every golden object that has one,
# after the byte that picks the unit's encoding (32-bit DWARF 5 or 4,
# 8-byte addresses: see fuzzing::abbrev).
if [[ " ${targets[*]} " == *" abbrev "* ]]; then
	i=0
	for o in "$golden"/*/*/input.o; do
		case $o in *dwarf4* | *types4*) pick='\x04' ;; *) pick='\x06' ;; esac
		printf "$pick" >"$seeds/abbrev/$i"
		if section .debug_abbrev "$o" >>"$seeds/abbrev/$i" 2>/dev/null; then
			i=$((i + 1))
		fi
	done
	rm -f "$seeds/abbrev/$i"
	[ "$i" -gt 50 ] || {
		echo "abbrev seeds: only $i objects with a .debug_abbrev" >&2
		exit 1
	}
	echo "== abbrev seeds: $i"
fi
# symtypes: those gendwarfksyms wrote for the golden objects, here and in
# ../shared (beside the repository, as in CI), cut to the exports and types
# that fit in 200 lines with what they reach; pairs of sides (`==` between
# them): --stable against not, and one architecture against another; and a
# consolidated file.
if [[ " ${targets[*]} " == *" symtypes "* ]]; then
	shared=../../shared
	cut_seed() { awk -v q="'" -v max=200 -f seed-symtypes.awk "$1" >"$2"; }
	for f in "$golden"/*/*/expected/symtypes "$shared"/golden-{ko,kbuild,rust}/*/expected/symtypes; do
		[ -f "$f" ] || continue
		v=$(dirname "$(dirname "$f")")
		cut_seed "$f" "$seeds/symtypes/$(basename "$(dirname "$v")")-$(basename "$v")"
	done
	for v in "$golden"/kabi/*/expected; do
		{ cat "$v/stable/symtypes"; echo ==; cat "$v/symtypes"; } \
			>"$seeds/symtypes/pair-stable-$(basename "$(dirname "$v")")"
	done
	for t in "$golden"/*/; do
		a=$t/gcc-dwarf5/expected/symtypes b=$t/i686/expected/symtypes
		[ -f "$a" ] && [ -f "$b" ] || continue
		{ cat "$a"; echo ==; cat "$b"; } >"$seeds/symtypes/pair-i686-$(basename "$t")"
	done
	cat >"$seeds/symtypes/consolidated" <<'EOF'
/* a.symtypes */
s#foo structure_type foo { member base_type char byte_size(1) encoding(6) c data_member_location(0) , member pointer_type { s#bar } byte_size(8) next data_member_location(8) } byte_size(16)
s##bar
e#'state x' enumeration_type 'state x' { enumerator ST_IDLE = 0 , enumerator ST_MAX = 1 } byte_size(4)
t#state_t typedef e#'state x' state_t
foo_get subprogram ( formal_parameter pointer_type { s#foo } byte_size(8) f , formal_parameter t#state_t s ) -> base_type int byte_size(4) encoding(5)

/* b.symtypes */
s#bar structure_type bar { member base_type long int byte_size(8) encoding(5) n data_member_location(0) } byte_size(8)
u##baz
bar_put subprogram ( formal_parameter pointer_type { s#bar } byte_size(8) b , formal_parameter pointer_type { u#baz } byte_size(8) z ) -> base_type void
foo_set variable s#foo
EOF
	echo "== symtypes seeds: $(find "$seeds/symtypes" -type f -size +0 | wc -l)"
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
