#!/usr/bin/env bash
# Prepare a kernel tree for building external modules with gendwarfksyms
# (CONFIG_MODVERSIONS + CONFIG_GENDWARFKSYMS, DWARF 5), from the Debian
# linux-source package that tests/oracle/build.sh downloads:
#
#   export KSYMRULES_KTREE="$(tests/kbuild/build-tree.sh)"
#
# The last line on stdout is the prepared tree: the kernel's object directory
# (make O=...), whose `source` link points at the extracted sources. Progress
# goes to stderr. Everything extracted or built stays in the cache directory
# (${KSYMRULES_KTREE_CACHE:-$HOME/.cache/ksymrules-ktree}); nothing of the
# kernel's code enters the repository. A run that finds the tree prepared from
# the same package with the same configuration prints it and does nothing
# else. See README.md here; tests/kbuild/run.sh builds our module against it.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(cd "$HERE/../.." && pwd -P)
CACHE=${KSYMRULES_KTREE_CACHE:-${HOME:?}/.cache/ksymrules-ktree}
JOBS=${KSYMRULES_KTREE_JOBS:-2}

# The configuration on top of x86_64's defconfig, as scripts/config arguments:
# module versions from DWARF 5 (full, unsplit debug information, which
# GENDWARFKSYMS needs), and off what needs tools this machine lacks (pahole
# for BTF, a Rust toolchain) or only makes the build slower.
CONFIG_ARGS=(
	-e MODULES -e MODVERSIONS -d GENKSYMS -e GENDWARFKSYMS
	-e DEBUG_KERNEL -d DEBUG_INFO_NONE -d DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT
	-d DEBUG_INFO_DWARF4 -e DEBUG_INFO_DWARF5
	-d DEBUG_INFO_REDUCED -d DEBUG_INFO_SPLIT
	-e DEBUG_INFO_COMPRESSED_NONE -d DEBUG_INFO_COMPRESSED_ZLIB -d DEBUG_INFO_COMPRESSED_ZSTD
	-d DEBUG_INFO_BTF -d DEBUG_INFO_BTF_MODULES
	-d LTO_CLANG_FULL -d LTO_CLANG_THIN -e LTO_NONE
	-d RUST -d WERROR
)
# What the resulting .config must have ("=y") and must not have ("!").
CONFIG_CHECKS=(
	MODULES=y MODVERSIONS=y GENDWARFKSYMS=y DEBUG_INFO=y DEBUG_INFO_DWARF5=y
	'!GENKSYMS' '!DEBUG_INFO_REDUCED' '!DEBUG_INFO_SPLIT' '!DEBUG_INFO_BTF' '!RUST' '!LTO'
)
# Bump when what this script does to the tree changes (rebuilds caches).
RECIPE=1

log() { printf 'ktree: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# --- the source package (the oracle's) ---------------------------------------
# tests/oracle/build.sh keeps the .deb it built from in its cache's debs/ and
# names it in bin/VERSION ("<package> <version>").
log "checking the oracle (for its linux-source .deb)"
oracle=$("$ROOT/tests/oracle/build.sh" | tail -n 1)
[[ -x $oracle ]] || die "tests/oracle/build.sh printed no binary"
ocache=$(cd "$(dirname "$oracle")/.." && pwd -P)
read -r PKG VER <"$ocache/bin/VERSION" || die "no $ocache/bin/VERSION"
[[ $PKG == linux-source-* && -n $VER ]] || die "unexpected $ocache/bin/VERSION"
DEB=$(find "$ocache/debs" -maxdepth 1 -name "${PKG}_${VER/:/%3a}_*.deb" -print -quit 2>/dev/null || true)
if [[ -z $DEB ]]; then
	die "no ${PKG}_${VER}_*.deb in $ocache/debs (delete $ocache to make tests/oracle/build.sh download it again)"
fi

stamp() {
	printf 'recipe %s\npackage %s %s\nconfig %s\n' "$RECIPE" "$PKG" "$VER" "${CONFIG_ARGS[*]}"
}
STAMP=$(stamp)

ready() {
	[[ -f $CACHE/STAMP && -x $CACHE/build/scripts/gendwarfksyms/gendwarfksyms ]] &&
		[[ $(<"$CACHE/STAMP") == "$STAMP" ]]
}

# --- fast path: already prepared ---------------------------------------------
if ready; then
	printf '%s\n' "$(cd "$CACHE/build" && pwd -P)"
	exit 0
fi

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
# kbuild refuses spaces and colons in its paths; sed and make below want less.
[[ $CACHE =~ ^[A-Za-z0-9._/+@-]+$ ]] ||
	die "the cache directory '$CACHE' has characters other than A-Z a-z 0-9 . _ / + @ -"

# One build at a time (tests may start several callers at once).
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if ready; then
	printf '%s\n' "$CACHE/build"
	exit 0
fi

start=$SECONDS
log "preparing a $PKG $VER tree in $CACHE"

# --- build dependencies (machine's own apt) ----------------------------------
missing=()
for p in make gcc binutils flex bison bc libssl-dev libelf-dev libdw-dev zlib1g-dev xz-utils; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	if ((EUID != 0)); then
		die "missing packages: ${missing[*]} (install them, or run this as root)"
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
		apt-get update -q >&2
		apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
	fi
fi

# --- extract the sources -------------------------------------------------------
# $CACHE/$PKG/ stays as extracted (the object directory is separate), so a
# new configuration only redoes the build.
SRC=$CACHE/$PKG
rm -f "$CACHE/STAMP"
if [[ ! -f $SRC/.ksymrules-extracted || $(<"$SRC/.ksymrules-extracted") != "$PKG $VER" ]]; then
	log "extracting $DEB"
	rm -rf "$SRC" "$CACHE/extract.tmp"
	mkdir -p "$CACHE/extract.tmp"
	# The .deb holds /usr/src/$PKG.tar.xz, whose top directory is $PKG/.
	dpkg-deb --fsys-tarfile "$DEB" |
		tar -xOf - "./usr/src/$PKG.tar.xz" |
		tar -xJf - -C "$CACHE/extract.tmp"
	[[ -f $CACHE/extract.tmp/$PKG/Makefile ]] || die "$DEB has no $PKG/Makefile"
	mv "$CACHE/extract.tmp/$PKG" "$SRC"
	rmdir "$CACHE/extract.tmp"
	printf '%s %s\n' "$PKG" "$VER" >"$SRC/.ksymrules-extracted"
	log "extracted in $((SECONDS - start)) s"
fi

# --- configure and prepare -------------------------------------------------------
OBJ=$CACHE/build
rm -rf "$OBJ"
mkdir -p "$OBJ"
kmake() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEFILES -u KCFLAGS -u KCPPFLAGS \
		-u KAFLAGS -u ARCH -u SRCARCH -u CROSS_COMPILE -u CC -u LLVM -u KBUILD_OUTPUT \
		-u KBUILD_EXTMOD -u KBUILD_VERBOSE -u KBUILD_SYMTYPES -u KBUILD_GENDWARFKSYMS_STABLE \
		-u O -u M -u W -u C \
		LC_ALL=C make -C "$SRC" O="$OBJ" "$@" >&2
}

log "make defconfig"
kmake defconfig
"$SRC/scripts/config" --file "$OBJ/.config" "${CONFIG_ARGS[@]}"
kmake olddefconfig
for c in "${CONFIG_CHECKS[@]}"; do
	if [[ $c == '!'* ]]; then
		! grep -q "^CONFIG_${c#!}=" "$OBJ/.config" || die "CONFIG_${c#!} is still set in $OBJ/.config"
	else
		grep -qx "CONFIG_$c" "$OBJ/.config" || die "no CONFIG_$c in $OBJ/.config (a dependency is missing)"
	fi
done
log "configured: ${CONFIG_CHECKS[*]}"

log "make -j$JOBS modules_prepare"
kmake -j"$JOBS" modules_prepare
[[ -x $OBJ/scripts/gendwarfksyms/gendwarfksyms ]] ||
	die "modules_prepare built no scripts/gendwarfksyms/gendwarfksyms"
[[ $(readlink -f "$OBJ/source") == "$SRC" ]] || die "$OBJ/source does not point at $SRC"

printf '%s\n' "$STAMP" >"$CACHE/STAMP"
log "done in $((SECONDS - start)) s"
printf '%s\n' "$OBJ"
