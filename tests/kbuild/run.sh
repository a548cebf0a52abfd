#!/usr/bin/env bash
# Build our module corpus/kbuild/module/ with kbuild against a prepared tree
# four ways -- {plain, KBUILD_GENDWARFKSYMS_STABLE=1} x {without, with
# KBUILD_SYMTYPES=1} -- once with the tree's own gendwarfksyms and once with
# ksymrules installed in its place, and compare what the two tools made:
#
#   tests/kbuild/run.sh TREE KSYMRULES_BINARY
#
# TREE is a kernel object directory prepared by build-tree.sh (make O=...
# modules_prepare, with CONFIG_GENDWARFKSYMS). The tree is not changed: the
# builds use a scratch copy of its object directory (a few MB; the sources
# are read through its `source` link), in which scripts/gendwarfksyms/
# gendwarfksyms is the tool under test. Both tools build at the same paths,
# so the objects they read are the same.
#
# Compared for each way: Module.symvers, every *.symtypes, every *.mod.c
# (the versions modpost writes into the modules) and the #SYMVER lines the
# tool printed into kbuild's .*.o.cmd files. Exit status 0 when all four
# ways are identical, 1 when one differs (the scratch directory with both
# tools' outputs is kept and named), 2 when a build fails or a sanity check
# does (builds that did not run the tool, or ran it without effect).
#
# Environment: KSYMRULES_KBUILD_JOBS (make -j, default 2),
# KSYMRULES_KBUILD_KEEP=1 keeps the scratch directory in any case.
set -euo pipefail

usage() {
	echo "usage: $0 TREE KSYMRULES_BINARY" >&2
	exit 2
}
(($# == 2)) || usage

HERE=$(cd "$(dirname "$0")" && pwd -P)
MODSRC=$(cd "$HERE/../../corpus/kbuild/module" && pwd -P)
JOBS=${KSYMRULES_KBUILD_JOBS:-2}
WAYS=(plain symtypes stable stable+symtypes)
TOOLS=(gendwarfksyms ksymrules)

log() { printf 'kbuild: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 2
}

[[ -d $1 ]] || die "no tree at $1"
TREE=$(cd "$1" && pwd -P)
[[ -f $2 && -x $2 ]] || die "no executable at $2"
KSYMRULES=$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2")
[[ -L $TREE/source ]] ||
	die "$TREE is not a kernel object directory (make O=...) with a source link; see tests/kbuild/build-tree.sh"
SRC=$(readlink -f "$TREE/source")
[[ -f $SRC/Makefile && -f $TREE/.config ]] || die "$TREE/source or $TREE/.config is missing"
grep -qx 'CONFIG_GENDWARFKSYMS=y' "$TREE/.config" || die "$TREE is not configured with CONFIG_GENDWARFKSYMS=y"
grep -qx 'CONFIG_MODVERSIONS=y' "$TREE/.config" || die "$TREE is not configured with CONFIG_MODVERSIONS=y"
TREE_TOOL=$TREE/scripts/gendwarfksyms/gendwarfksyms
[[ -x $TREE_TOOL ]] || die "$TREE has no scripts/gendwarfksyms/gendwarfksyms (run make modules_prepare)"

# The module's sources: what the build copies (and what it exports).
mapfile -t MODULE_FILES < <(cd "$MODSRC" && find . -maxdepth 1 -type f \
	\( -name '*.c' -o -name '*.h' -o -name Kbuild -o -name Makefile \) -printf '%f\n' | LC_ALL=C sort)
mapfile -t EXPORTS < <(cd "$MODSRC" && sed -n 's/^EXPORT_SYMBOL[A-Z_]*(\([A-Za-z0-9_]*\).*/\1/p' ./*.c | LC_ALL=C sort)
((${#EXPORTS[@]})) || die "no EXPORT_SYMBOL in $MODSRC"
# Objects that export (their .symtypes are expected with KBUILD_SYMTYPES=1).
mapfile -t EXPORTING < <(cd "$MODSRC" && grep -l '^EXPORT_SYMBOL' ./*.c | sed 's|^\./||; s|\.c$||' | LC_ALL=C sort)

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/ksymrules-kbuild.XXXXXX")
keep=${KSYMRULES_KBUILD_KEEP:-}
cleanup() {
	if [[ -z $keep ]]; then
		rm -rf "$SCRATCH"
	else
		log "kept $SCRATCH"
	fi
}
trap cleanup EXIT

OBJ=$SCRATCH/obj
MOD=$SCRATCH/mod
OUT=$SCRATCH/out
cp -a "$TREE" "$OBJ"
INSTALLED=$OBJ/scripts/gendwarfksyms/gendwarfksyms

log "tree: $TREE (sources $SRC)"
log "ksymrules: $KSYMRULES"
log "module: $MODSRC (${#EXPORTS[@]} exports)"

kmake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEFILES -u KCFLAGS -u KCPPFLAGS \
		-u KAFLAGS -u ARCH -u SRCARCH -u CROSS_COMPILE -u CC -u LLVM -u KBUILD_OUTPUT \
		-u KBUILD_EXTMOD -u KBUILD_VERBOSE -u KBUILD_SYMTYPES -u KBUILD_GENDWARFKSYMS_STABLE \
		-u KBUILD_MODPOST_WARN -u O -u M -u W -u C \
		LC_ALL=C "$@"
}

# build TOOL WAY: one build of the module; its results go to $OUT/TOOL/WAY.
build() {
	local tool=$1 way=$2 vars=() dest=$OUT/$1/$2 f
	[[ $way == *stable* ]] && vars+=(KBUILD_GENDWARFKSYMS_STABLE=1)
	[[ $way == *symtypes* ]] && vars+=(KBUILD_SYMTYPES=1)
	rm -rf "$MOD"
	mkdir -p "$MOD" "$dest"
	(cd "$MODSRC" && cp -- "${MODULE_FILES[@]}" "$MOD/")
	# Without the tree's Module.symvers (no vmlinux was built) modpost would
	# stop at the module's references to the kernel: make them warnings.
	if ! kmake "${vars[@]}" KBUILD_MODPOST_WARN=1 \
		make -j"$JOBS" -C "$SRC" O="$OBJ" M="$MOD" modules >"$dest/build.log" 2>&1; then
		sed 's/^/    /' "$dest/build.log" >&2
		die "$tool, $way: the build failed"
	fi
	[[ -s $MOD/Module.symvers ]] || die "$tool, $way: no Module.symvers"
	cp "$MOD/Module.symvers" "$dest/"
	(cd "$MOD" && find . -name '*.symtypes' -o -name '*.mod.c') | while read -r f; do
		cp "$MOD/$f" "$dest/"
	done
	# What the tool printed, as kbuild recorded it for modpost: compared as
	# a set (modpost reads the lines into its symbol table, in any order;
	# gendwarfksyms prints them in its hash table's order, ksymrules in the
	# order of its input), the order in which they came only noted.
	(cd "$MOD" && for f in .*.o.cmd; do
		grep '^#SYMVER ' "$f" | sed "s|^|${f#.} |" || true
	done) >"$dest/symver.order"
	LC_ALL=C sort "$dest/symver.order" >"$dest/SYMVER"
	# The build's output, in any order (make -j).
	LC_ALL=C sort "$dest/build.log" >"$dest/build.sorted"
}

# check TOOL WAY: the build ran the tool, and it did its job.
check() {
	local tool=$1 way=$2 dest=$OUT/$1/$2 got o
	got=$(awk '{print $2}' "$dest/Module.symvers" | LC_ALL=C sort)
	[[ $got == "$(printf '%s\n' "${EXPORTS[@]}")" ]] ||
		die "$tool, $way: Module.symvers does not list exactly the module's exports"
	if cut -f1 "$dest/Module.symvers" | grep -qvE '^0x[0-9a-f]{8}$' ||
		cut -f1 "$dest/Module.symvers" | grep -qx 0x00000000; then
		die "$tool, $way: Module.symvers has missing or zero CRCs"
	fi
	[[ $(wc -l <"$dest/SYMVER") -eq ${#EXPORTS[@]} ]] ||
		die "$tool, $way: the .o.cmd files have $(wc -l <"$dest/SYMVER") #SYMVER lines, not ${#EXPORTS[@]}"
	if [[ $way == *symtypes* ]]; then
		for o in "${EXPORTING[@]}"; do
			[[ -s $dest/$o.symtypes ]] || die "$tool, $way: no $o.symtypes"
		done
	elif compgen -G "$dest/*.symtypes" >/dev/null; then
		die "$tool, $way: .symtypes files without KBUILD_SYMTYPES"
	fi
}

start=$SECONDS
for tool in "${TOOLS[@]}"; do
	if [[ $tool == gendwarfksyms ]]; then
		install -m 755 "$TREE_TOOL" "$INSTALLED"
	else
		install -m 755 "$KSYMRULES" "$INSTALLED"
	fi
	want=$(sha256sum <"$INSTALLED")
	for way in "${WAYS[@]}"; do
		t=$SECONDS
		build "$tool" "$way"
		check "$tool" "$way"
		log "built with $tool, $way ($((SECONDS - t)) s)"
	done
	[[ $(sha256sum <"$INSTALLED") == "$want" ]] ||
		die "kbuild replaced scripts/gendwarfksyms/gendwarfksyms during the $tool builds"
done

# The kABI rules and conventions apply only with --stable: some versions
# must change with it. KBUILD_SYMTYPES must change none.
for tool in "${TOOLS[@]}"; do
	cmp -s "$OUT/$tool/plain/Module.symvers" "$OUT/$tool/stable/Module.symvers" &&
		die "$tool: KBUILD_GENDWARFKSYMS_STABLE=1 changed no version (was --stable passed?)"
	cmp -s "$OUT/$tool/plain/Module.symvers" "$OUT/$tool/symtypes/Module.symvers" ||
		die "$tool: KBUILD_SYMTYPES=1 changed versions"
	cmp -s "$OUT/$tool/stable/Module.symvers" "$OUT/$tool/stable+symtypes/Module.symvers" ||
		die "$tool: KBUILD_SYMTYPES=1 changed versions with KBUILD_GENDWARFKSYMS_STABLE=1"
done

# --- the verdicts --------------------------------------------------------------
NOTED=(-x build.log -x build.sorted -x symver.order)
differ=0
printf '%-16s %s\n' way verdict
for way in "${WAYS[@]}"; do
	a=$OUT/gendwarfksyms/$way b=$OUT/ksymrules/$way
	if diff -r -q "${NOTED[@]}" "$a" "$b" >/dev/null; then
		n=$(find "$a" -name '*.symtypes' | wc -l)
		printf '%-16s identical (Module.symvers: %d versions, #SYMVER lines, %d .mod.c, %d .symtypes)\n' \
			"$way" "${#EXPORTS[@]}" "$(find "$a" -name '*.mod.c' | wc -l)" "$n"
	else
		differ=1
		printf '%-16s DIFFERENT\n' "$way"
		diff -r -u "${NOTED[@]}" "$a" "$b" | head -n 200 | sed 's/^/    /' || true
	fi
	# Not compared, but a difference there is worth a look.
	if ! cmp -s "$a/build.sorted" "$b/build.sorted"; then
		printf '%-16s (note: the build logs differ)\n' "$way"
		diff -u "$a/build.sorted" "$b/build.sorted" | head -n 40 | sed 's/^/    /' || true
	fi
	if ! cmp -s "$a/symver.order" "$b/symver.order"; then
		printf '%-16s (note: the #SYMVER lines came in another order)\n' "$way"
	fi
done
log "8 builds and comparisons in $((SECONDS - start)) s"
if ((differ)); then
	keep=1
	log "ksymrules and gendwarfksyms differ: both outputs are in $OUT/{gendwarfksyms,ksymrules}/<way>"
	exit 1
fi
echo "all ways identical"
