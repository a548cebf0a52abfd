#!/usr/bin/env bash
# ksymrules benchmark, in three parts.
#
# The kbuild workload (bench/small.py): one process per small object, as
# kbuild runs it, over every golden-kbuild object and every object of the
# golden corpus: per-object wall and CPU time of ksymrules and of a floor
# program that only maps the object and reads its symbol table and unit
# headers (engine/examples/small_floor.rs), and their sums. With
# KSYMRULES_ORACLE=/path/to/gendwarfksyms (tests/oracle/build.sh builds
# one), gendwarfksyms is run alternately with them and compared. ksymrules
# and the floors are built static (scripts/build-static.sh), as kbuild
# should run ksymrules; gendwarfksyms is as its build made it.
#
# Big inputs: wall time, CPU time and peak RSS per input, a bare gimli pass
# over the same file (the floor), and seconds per MB of .debug_info and per
# export, inputs ordered by size.
#
# Compare: `ksymrules compare --format short OLD NEW` (output to /dev/null)
# per pair: wall time, CPU time and peak RSS, its exit status (0: nothing
# differs, 1: something does; 2, an error, stops the benchmark), and the
# same figures for versioning the two sides the kbuild way
# (`ksymrules OBJ < SYMBOLS` on each, summed), with the ratios of wall and
# CPU time to them. Pairs: each golden-ko module with itself (--symbols its
# list); our out-of-tree module built against Debian's 6.1 and 6.12
# headers, $KSYMRULES_PAIR/{old,new}/pairmod.ko (default
# ~/.cache/ksymrules-pair, built with tests/pair/build.sh when missing;
# skipped if that fails), as it is and with --suggest-kabi (which versions
# NEW again to check the suggestion); with --fetch, sunrpc.ko and vmlinux
# each with itself (--symbols the __ksymtab_ list).
#
#   bench/run.sh            the kbuild workload, the golden-ko modules, and
#                           the compare pairs but sunrpc.ko and vmlinux
#   bench/run.sh --fetch    also sunrpc.ko and vmlinux of Debian's 6.1 cloud
#                           kernel: downloads linux-image-<release>-cloud-amd64-dbg
#                           (about 280 MB) with `apt-get download` into
#                           $KSYMRULES_BENCH_CACHE (default ~/.cache/ksymrules-bench)
#                           once, and extracts the two files from it; both
#                           are then big inputs and compared with themselves
#
# Each input and pair is run $RUNS times (default 3); the fastest run is
# printed. Timings are for this machine and its load: the benchmark prints,
# it never asserts (a compare that fails is an error, not a slow run). Not
# part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

fetch=0
[ "${1:-}" = "--fetch" ] && fetch=1
runs=${RUNS:-3}
release=${KSYMRULES_BENCH_RELEASE:-6.1.0-56}
cache=${KSYMRULES_BENCH_CACHE:-$HOME/.cache/ksymrules-bench}
shared=${KSYMRULES_SHARED:-../shared}

# The tool as kbuild should run it, static (scripts/build-static.sh), and
# the floors built the same way, so that they pay the same start-up.
built=$(scripts/build-static.sh -p ksymrules-engine --example bare_pass --example small_floor | tail -n 1)
# Every tool runs from a copy, as an installed program does: a file the
# linker has just written sits in the page cache in small pieces, and a run
# faults in its code a few more times (2.5 us each here) than from a copy.
installed=$(mktemp -d)
trap 'rm -rf "$installed"' EXIT
mkdir "$installed/examples"
cp "$built" "$installed/ksymrules"
cp "$(dirname "$built")"/examples/{bare_pass,small_floor} "$installed/examples/"
if [ -n "${KSYMRULES_ORACLE:-}" ]; then
	cp "$KSYMRULES_ORACLE" "$installed/gendwarfksyms"
	KSYMRULES_ORACLE=$installed/gendwarfksyms
fi
bin=$installed/ksymrules
examples=$installed/examples
bare=$examples/bare_pass

echo "== kbuild workload: one process per object (bench/small.py)"
oracle=()
[ -n "${KSYMRULES_ORACLE:-}" ] && oracle=(--oracle "$KSYMRULES_ORACLE")
python3 bench/small.py --runs "${SMALL_RUNS:-15}" "${oracle[@]}" "$bin" "$examples/small_floor" \
	"$shared"/golden-kbuild/*/ corpus/golden/*/*/
echo
echo "== big inputs"

inputs=() # "name|object|symbol-list"
for d in "$shared"/golden-ko/*/; do
	[ -f "$d/input.o" ] && inputs+=("$(basename "$d")|$d/input.o|$d/symbols")
done

if [ $fetch = 1 ]; then
	pkg=linux-image-$release-cloud-amd64-dbg
	mkdir -p "$cache"
	deb=$(ls "$cache"/"$pkg"_*.deb 2>/dev/null | head -n 1 || true)
	if [ -z "$deb" ]; then
		echo "downloading $pkg into $cache (apt-get download)" >&2
		(cd "$cache" && apt-get download "$pkg" >&2)
		deb=$(ls "$cache"/"$pkg"_*.deb | head -n 1)
	fi
	x=$cache/extract-$release
	if [ ! -d "$x" ]; then
		mkdir -p "$x"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$x" --wildcards \
			"./usr/lib/debug/boot/vmlinux-$release-cloud-amd64" '*/net/sunrpc/sunrpc.ko'
	fi
	vmlinux=$x/usr/lib/debug/boot/vmlinux-$release-cloud-amd64
	sunrpc=$(find "$x" -name sunrpc.ko | head -n 1)
	for f in "$sunrpc" "$vmlinux"; do
		# kbuild's export list: the __ksymtab_ symbols.
		[ -f "$f.syms" ] || nm "$f" | sed -n 's/.* __ksymtab_\(.*\)/\1/p' > "$f.syms"
	done
	inputs+=("sunrpc.ko|$sunrpc|$sunrpc.syms" "vmlinux|$vmlinux|$vmlinux.syms")
fi

# Size of .debug_info in bytes.
debug_info_size() {
	local hex
	hex=$(readelf -S --wide "$1" | sed 's/^ *\[ *[0-9]*\] *//' | awk '$1 == ".debug_info" { print $5 }' | head -n 1)
	echo $((16#${hex:-0}))
}

# One run of a command: prints "wall cpu rss_kb".
run_once() {
	local out start end
	out=$(mktemp)
	# Wall time to the millisecond (time's own %e counts hundredths).
	start=$(date +%s%N)
	/usr/bin/time -o "$out" -f "%U %S %M" "$@" >/dev/null 2>&1
	end=$(date +%s%N)
	tail -n 1 "$out" | awk -v ns=$((end - start)) '{ printf "%.3f %.2f %d\n", ns / 1e9, $1 + $2, $3 }'
	rm -f "$out"
}

# The faster (by wall time) of two "wall cpu rss_kb" figures, either empty.
faster() {
	if [ -z "$2" ] || awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y); exit !(x[1] < y[1]) }'; then
		echo "$1"
	else
		echo "$2"
	fi
}

# Fastest of $runs runs of a command: prints "wall cpu rss_kb".
measure() {
	local best=""
	for _ in $(seq "$runs"); do
		best=$(faster "$(run_once "$@")" "$best")
	done
	echo "$best"
}

rows=()
for entry in "${inputs[@]}"; do
	IFS='|' read -r name obj syms <<<"$entry"
	size=$(debug_info_size "$obj")
	exports=$(wc -l <"$syms")
	tmp=$(mktemp)
	# ksymrules and the floor in turn, so that they share the machine's
	# drift (a run of the floor, on one core, suffers less from a busy
	# machine than one of ksymrules on two).
	best=""
	bbest=""
	for _ in $(seq "$runs"); do
		best=$(faster "$(run_once sh -c "$bin -T $tmp $obj < $syms")" "$best")
		bbest=$(faster "$(run_once "$bare" "$obj")" "$bbest")
	done
	read -r wall cpu rss <<<"$best"
	read -r bwall bcpu brss <<<"$bbest"
	rm -f "$tmp"
	rows+=("$size|$name|$exports|$wall|$cpu|$rss|$bwall|$brss")
done

printf '%-12s %9s %8s %8s %8s %9s %8s %9s %8s %10s %10s\n' \
	input debug_info exports wall_s cpu_s peak_MB floor_s floor_MB x_floor s_per_MB ms_per_exp
printf '%s\n' "${rows[@]}" | sort -n | while IFS='|' read -r size name exports wall cpu rss bwall brss; do
	awk -v n="$name" -v s="$size" -v e="$exports" -v w="$wall" -v c="$cpu" -v r="$rss" \
		-v bw="$bwall" -v br="$brss" 'BEGIN {
		mb = s / 1048576
		xf = (bw > 0 ? sprintf("%.2f", w / bw) : "-")
		printf "%-12s %8.1fM %8d %8.3f %8.2f %9.0f %8.3f %9.0f %8s %10.3f %10.2f\n",
			n, mb, e, w, c, r / 1024, bw, br / 1024, xf,
			(mb > 0 ? w / mb : 0), (e > 0 ? 1000 * w / e : 0)
	}'
done
echo "(wall and CPU seconds: fastest of $runs runs, ksymrules and the floor in turn; floor: a bare gimli pass over every DIE,"
echo " attribute and name of the same file; x_floor = wall / floor wall)"

echo
echo "== compare: ksymrules compare OLD NEW, against versioning both sides"

# The kbuild form on one side, `ksymrules OBJ < SYMBOLS`, measured once per
# object and list (a pair of an object with itself counts it twice).
declare -A versioned
version_side() {
	local key="$1|$2"
	if [ -z "${versioned[$key]:-}" ]; then
		versioned[$key]=$(measure sh -c "$bin \"\$0\" < \"\$1\"" "$1" "$2")
	fi
}

cpairs=() # "name|old|new|old-symbols|new-symbols|--symbols or -|extra argument"
for d in "$shared"/golden-ko/*/; do
	[ -f "$d/input.o" ] && cpairs+=("$(basename "$d")|$d/input.o|$d/input.o|$d/symbols|$d/symbols|$d/symbols|")
done

pair=${KSYMRULES_PAIR:-}
if [ -z "$pair" ]; then
	pair=$HOME/.cache/ksymrules-pair
	if [ ! -f "$pair/old/pairmod.ko" ] || [ ! -f "$pair/new/pairmod.ko" ]; then
		echo "building the pair (tests/pair/build.sh)" >&2
		pair=$(tests/pair/build.sh | tail -n 1) || pair=
	fi
fi
kabi_out=$installed/kabi.out
if [ -n "$pair" ] && [ -f "$pair/old/pairmod.ko" ] && [ -f "$pair/new/pairmod.ko" ]; then
	for side in old new; do
		# kbuild's export list; tests/pair/build.sh writes it.
		[ -f "$pair/$side/EXPORTS" ] ||
			nm "$pair/$side/pairmod.ko" | sed -n 's/.* __ksymtab_//p' | LC_ALL=C sort >"$pair/$side/EXPORTS"
	done
	p="$pair/old/pairmod.ko|$pair/new/pairmod.ko|$pair/old/EXPORTS|$pair/new/EXPORTS|-"
	cpairs+=("pairmod|$p|" "pairmod+kabi|$p|--suggest-kabi=$kabi_out")
else
	echo "(no pair: tests/pair/build.sh failed, or KSYMRULES_PAIR=$pair has no old/ and new/pairmod.ko; skipped)"
fi

if [ $fetch = 1 ]; then
	cpairs+=("sunrpc.ko|$sunrpc|$sunrpc|$sunrpc.syms|$sunrpc.syms|$sunrpc.syms|"
		"vmlinux|$vmlinux|$vmlinux|$vmlinux.syms|$vmlinux.syms|$vmlinux.syms|")
fi

printf '%-13s %4s %8s %8s %8s %8s %8s %8s %7s %7s\n' \
	pair exit wall_s cpu_s peak_MB ver_s ver_cpu ver_MB x_wall x_cpu
for entry in "${cpairs[@]}"; do
	IFS='|' read -r name old new osyms nsyms symbols extra <<<"$entry"
	args=(compare --format short)
	[ "$symbols" != - ] && args+=(--symbols "$symbols")
	[ -n "$extra" ] && args+=("$extra")
	args+=("$old" "$new")
	# One run to check its exit status: 0 (nothing differs) and 1 (something
	# does) are results, 2 is an error and fails the benchmark.
	err=$(mktemp)
	status=0
	"$bin" "${args[@]}" >/dev/null 2>"$err" || status=$?
	if [ $status -gt 1 ]; then
		echo "error: $bin ${args[*]} exited with $status:" >&2
		cat "$err" >&2
		rm -f "$err"
		exit 1
	fi
	rm -f "$err"
	read -r wall cpu rss < <(measure sh -c '"$0" "$@"; [ $? -le 1 ]' "$bin" "${args[@]}")
	version_side "$old" "$osyms"
	version_side "$new" "$nsyms"
	read -r owall ocpu orss <<<"${versioned[$old|$osyms]}"
	read -r nwall ncpu nrss <<<"${versioned[$new|$nsyms]}"
	awk -v n="$name" -v s="$status" -v w="$wall" -v c="$cpu" -v r="$rss" \
		-v ow="$owall" -v oc="$ocpu" -v or="$orss" -v nw="$nwall" -v nc="$ncpu" -v nr="$nrss" 'BEGIN {
		vw = ow + nw; vc = oc + nc
		printf "%-13s %4d %8.3f %8.2f %8.0f %8.3f %8.2f %8.0f %7s %7s\n",
			n, s, w, c, r / 1024, vw, vc, (or + nr) / 1024,
			(vw > 0 ? sprintf("%.2f", w / vw) : "-"), (vc > 0 ? sprintf("%.2f", c / vc) : "-")
	}'
done
echo "(compare with --format short to /dev/null; exit: 0 nothing differs, 1 something does;"
echo " ver_*: \`ksymrules OBJ < SYMBOLS\` on each side, summed (wall, CPU, peak RSS);"
echo " x_wall, x_cpu = compare / the two versionings; fastest of $runs runs)"
