#!/usr/bin/env bash
# Build one out-of-tree module of ours (corpus/pair/module/) with kbuild
# against two Debian kernels' headers, for tests that compare the two builds
# (`ksymrules compare OLD.ko NEW.ko`):
#
#   export KSYMRULES_PAIR="$(tests/pair/build.sh)"
#
# The last line on stdout is the cache directory, which then holds
# old/pairmod.ko and new/pairmod.ko; progress goes to stderr. Everything
# downloaded, extracted or built stays in the cache directory
# (${KSYMRULES_PAIR_CACHE:-$HOME/.cache/ksymrules-pair}); nothing of the
# kernels' code enters the repository. A run that finds both modules built
# from the pinned packages and the current module source prints the directory
# and does nothing else. See README.md here.
#
# The machine's apt setup is left alone: a private apt configuration (its own
# sources list, state and cache directories under the cache directory) reaches
# the Debian archive through the mirrors that the machine's own apt sources
# name, and the packages are only extracted (dpkg-deb -x), never installed.
set -euo pipefail

# --- the pinned kernels ----------------------------------------------------------
# Each side: the kernel release (as in /lib/modules/<release>), the Debian
# package version of its headers, and the kbuild package the headers need.
# "old" is bookworm's 6.1 (bookworm main), "new" bookworm's 6.12 (from
# bookworm-security; built with bookworm's gcc-12, like the 6.1 one). When the
# archive drops one of them, pick another pair (apt-cache madison
# 'linux-headers-6.*-amd64') and update the snapshots of the tests that read
# KSYMRULES_PAIR.
OLD_RELEASE=6.1.0-50-amd64
OLD_VERSION=6.1.176-1
OLD_KBUILD=linux-kbuild-6.1
NEW_RELEASE=6.12.117+deb12-amd64
NEW_VERSION=6.12.117-1~deb12u1
NEW_KBUILD=linux-kbuild-6.12.117+deb12
# Suites the private apt configuration reads.
SUITES=${KSYMRULES_PAIR_SUITES:-bookworm bookworm-security}

CACHE=${KSYMRULES_PAIR_CACHE:-${HOME:?}/.cache/ksymrules-pair}
MODSRC=$(cd "$(dirname "$0")/../../corpus/pair/module" && pwd -P)
# The module's source files (anything else there, e.g. a local build's
# objects, is neither copied nor hashed).
MODULE_FILES=(Kbuild Makefile pairmod.c pairmod.h)
DEFAULT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

log() { printf 'pair: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# What the results were built from: the pins and the module's source. A cache
# whose STAMP differs is rebuilt (reusing what it already downloaded).
stamp() {
	printf 'old %s %s %s\n' "$OLD_RELEASE" "$OLD_VERSION" "$OLD_KBUILD"
	printf 'new %s %s %s\n' "$NEW_RELEASE" "$NEW_VERSION" "$NEW_KBUILD"
	(cd "$MODSRC" && sha256sum -- "${MODULE_FILES[@]}")
}
STAMP=$(stamp)

built() {
	[[ -s $CACHE/old/pairmod.ko && -s $CACHE/new/pairmod.ko && -f $CACHE/STAMP ]] &&
		[[ $(<"$CACHE/STAMP") == "$STAMP" ]]
}

# --- fast path: already built ------------------------------------------------
if built; then
	CACHE=$(cd "$CACHE" && pwd -P)
	printf '%s\n' "$CACHE"
	exit 0
fi

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
# make (-C, M=, include) and sed below can't take just any path.
[[ $CACHE =~ ^[A-Za-z0-9._/+@-]+$ ]] ||
	die "the cache directory '$CACHE' has characters other than A-Z a-z 0-9 . _ / + @ -"

# One build at a time (tests may start several callers at once).
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if built; then
	printf '%s\n' "$CACHE"
	exit 0
fi

start=$SECONDS
log "building pairmod.ko against $OLD_RELEASE and $NEW_RELEASE in $CACHE"

# --- build dependencies (machine's own apt) ----------------------------------
# The kernels were built with bookworm's gcc-12 (the headers' .kernelvariables
# name gcc-12 and x86_64-linux-gnu-gcc-12); kbuild's prebuilt tools (objtool)
# need libelf.
missing=()
for p in gcc-12 make libelf1 binutils; do
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

# --- the packages ----------------------------------------------------------------
# "package=version" of each side's packages.
side_pkgs() {
	local release version kbuild
	if [[ $1 == old ]]; then
		release=$OLD_RELEASE version=$OLD_VERSION kbuild=$OLD_KBUILD
	else
		release=$NEW_RELEASE version=$NEW_VERSION kbuild=$NEW_KBUILD
	fi
	printf '%s\n' "linux-headers-$release=$version" \
		"linux-headers-${release%-amd64}-common=$version" "$kbuild=$version"
}

# apt writes an epoch's ':' as %3a in file names.
deb_file() {
	local pkg=${1%%=*} ver=${1#*=}
	find "$CACHE/debs" -maxdepth 1 -name "${pkg}_${ver/:/%3a}_*.deb" -print -quit
}

mkdir -p "$CACHE/debs"
need=()
for side in old new; do
	while read -r pv; do
		[[ -n $(deb_file "$pv") ]] || need+=("$pv")
	done < <(side_pkgs "$side")
done

# --- download (private apt configuration) ------------------------------------
# Prints "URI<TAB>suite<TAB>signed-by" for each suite of each `deb` source the
# machine has.
machine_sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		awk -v RS= -F'\n' '
		{
			types = ""; uris = ""; suites = ""; sb = ""; enabled = "yes"
			for (i = 1; i <= NF; i++) {
				line = $i
				if (line ~ /^#/ || line !~ /^[A-Za-z-]+:/) continue
				k = tolower(substr(line, 1, index(line, ":") - 1))
				v = substr(line, index(line, ":") + 1)
				gsub(/^[ \t]+|[ \t]+$/, "", v)
				if (k == "types") types = v
				else if (k == "uris") uris = v
				else if (k == "suites") suites = v
				else if (k == "signed-by") sb = v
				else if (k == "enabled") enabled = tolower(v)
			}
			if (enabled == "no" || (" " types " ") !~ / deb /) next
			n = split(uris, u, /[ \t]+/)
			m = split(suites, s, /[ \t]+/)
			for (j = 1; j <= n; j++)
				for (l = 1; l <= m; l++)
					if (u[j] != "" && s[l] != "") print u[j] "\t" s[l] "\t" sb
		}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -r $f ]] || continue
		awk '
		$1 == "deb" {
			i = 2; sb = ""
			if ($2 ~ /^\[/) {
				for (; i <= NF; i++) {
					if ($i ~ /^\[?signed-by=/) { sb = $i; sub(/^\[?signed-by=/, "", sb); sub(/\]$/, "", sb) }
					if ($i ~ /\]$/) { i++; break }
				}
			}
			print $i "\t" $(i + 1) "\t" sb
		}' "$f"
	done
}

if ((${#need[@]})); then
	APTDIR=$CACHE/apt
	rm -rf "$APTDIR"
	mkdir -p "$APTDIR/parts" "$APTDIR/preferences.d" "$APTDIR/state/lists/partial" \
		"$APTDIR/cache/archives/partial"
	: >"$APTDIR/status"
	arch=$(dpkg --print-architecture)
	[[ $arch == amd64 ]] || die "the pinned headers are amd64 ones; this machine is $arch"

	mapfile -t sources < <(machine_sources)
	# A Debian mirror of the machine's (for suites its sources don't list).
	main_uri=""
	for s in "${sources[@]}"; do
		IFS=$'\t' read -r uri suite sb <<<"$s"
		if [[ " $SUITES " == *" $suite "* && $suite != *-security ]] || [[ $uri == */debian || $uri == */debian/ ]]; then
			main_uri=$uri
			break
		fi
	done
	# target=Packages: only the package indexes, not the other targets (such as
	# AppStream metadata) that the machine's apt.conf.d may add.
	for suite in $SUITES; do
		uri="" keyring=$DEFAULT_KEYRING
		for s in "${sources[@]}"; do
			IFS=$'\t' read -r u su sb <<<"$s"
			if [[ $su == "$suite" ]]; then
				uri=$u
				[[ -n $sb && -r $sb ]] && keyring=$sb
				break
			fi
		done
		if [[ -z $uri ]]; then
			# Not in the machine's sources: the usual layout beside its mirror.
			[[ -n $main_uri ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d/}"
			if [[ $suite == *-security ]]; then
				uri=${main_uri%/}-security
			else
				uri=$main_uri
			fi
		fi
		[[ -r $keyring ]] || die "no archive keyring at $keyring (apt-get install debian-archive-keyring)"
		printf 'deb [arch=%s target=Packages signed-by=%s] %s %s main\n' "$arch" "$keyring" "$uri" "$suite"
	done >"$APTDIR/sources.list"
	log "private apt sources:"
	sed 's/^/pair:   /' "$APTDIR/sources.list" >&2

	# Don't run the machine's update/dpkg hooks for this private configuration.
	cat >"$APTDIR/apt.conf" <<-'EOF'
		#clear APT::Update::Pre-Invoke;
		#clear APT::Update::Post-Invoke;
		#clear APT::Update::Post-Invoke-Success;
		#clear DPkg::Pre-Invoke;
		#clear DPkg::Post-Invoke;
	EOF
	APT_OPTS=(
		-c "$APTDIR/apt.conf"
		-o "Dir::Etc::SourceList=$APTDIR/sources.list"
		-o "Dir::Etc::SourceParts=$APTDIR/parts"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$APTDIR/preferences.d"
		-o "Dir::State=$APTDIR/state"
		-o "Dir::State::status=$APTDIR/status"
		-o "Dir::Cache=$APTDIR/cache"
		-o "Dir::Cache::pkgcache=$APTDIR/cache/pkgcache.bin"
		-o "Dir::Cache::srcpkgcache=$APTDIR/cache/srcpkgcache.bin"
		-o "APT::Architecture=$arch"
		-o "Acquire::Languages=none"
		-o "Acquire::PDiffs=false"
	)
	# As root apt downloads as _apt, which can't write under a private $HOME.
	if ((EUID == 0)); then
		APT_OPTS+=(-o "APT::Sandbox::User=root")
	fi

	log "updating the private package lists"
	apt-get "${APT_OPTS[@]}" -q update >&2 ||
		die "apt-get update failed (is $keyring recent enough to verify $SUITES?)"

	log "downloading ${need[*]}"
	tmpdl=$(mktemp -d "$CACHE/dl.XXXXXX")
	if ! (cd "$tmpdl" && apt-get "${APT_OPTS[@]}" -q download "${need[@]}" >&2); then
		rm -rf "$tmpdl"
		die "apt-get download failed: the archive may have dropped a pinned version" \
			"(see apt-cache madison 'linux-headers-6.*-amd64'; update the pins at the top of $0)"
	fi
	mv "$tmpdl"/*.deb "$CACHE/debs/"
	rmdir "$tmpdl"
	# The lists were only needed to download; keep the .debs.
	rm -rf "$APTDIR"
fi

# --- extract and fix up each side's headers ------------------------------------
# $CACHE/kernels/<side>/ is the root of the extracted packages. Their symlinks
# between /usr/src/linux-headers-* and /usr/lib/linux-kbuild-* are relative
# and work there as they are; the flavour's Makefile includes the common one
# by absolute path, and /lib/modules/<release>/{build,source} are absolute:
# both are pointed into the private tree.
extract_side() {
	local side=$1 release=$2 tree=$CACHE/kernels/$1 tmp pv deb common
	local want
	want=$(side_pkgs "$side")
	if [[ -f $tree/.extracted && $(<"$tree/.extracted") == "$want" ]]; then
		return
	fi
	log "extracting the $side headers ($release)"
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	tmp=$tree.tmp
	while read -r pv; do
		deb=$(deb_file "$pv")
		[[ -n $deb ]] || die "no .deb for $pv in $CACHE/debs"
		dpkg-deb -x "$deb" "$tmp"
	done <<<"$want"
	common=linux-headers-${release%-amd64}-common
	[[ -f $tmp/usr/src/linux-headers-$release/Makefile && -d $tmp/usr/src/$common ]] ||
		die "the $side packages have no /usr/src/linux-headers-$release or $common"
	# "include /usr/src/<common>/Makefile" -> the private tree's.
	sed -i "s|^include /usr/src/|include $tree/usr/src/|" "$tmp/usr/src/linux-headers-$release/Makefile"
	grep -q "^include $tree/usr/src/$common/Makefile\$" "$tmp/usr/src/linux-headers-$release/Makefile" ||
		die "unexpected $tmp/usr/src/linux-headers-$release/Makefile"
	if [[ -d $tmp/lib/modules/$release ]]; then
		ln -sfn "../../../usr/src/linux-headers-$release" "$tmp/lib/modules/$release/build"
		ln -sfn "../../../usr/src/$common" "$tmp/lib/modules/$release/source"
	fi
	printf '%s\n' "$want" >"$tmp/.extracted"
	mv "$tmp" "$tree"
}

# --- build -------------------------------------------------------------------
# kbuild in the flavour's headers directory, on a copy of the module source.
# The file prefix maps make the DWARF name the paths a machine with the
# packages installed would have (/usr/src/linux-headers-*, and /usr/src/pairmod
# for the module), not the cache directory's, so the objects don't depend on
# where the cache is. The .ko has no BTF: making it needs pahole, and the
# tests read DWARF.
build_side() {
	local side=$1 release=$2 tree=$CACHE/kernels/$1
	local kdir=$tree/usr/src/linux-headers-$release work=$CACHE/build/$1
	rm -rf "$work"
	mkdir -p "$CACHE/build"
	mkdir -p "$work"
	(cd "$MODSRC" && cp -- "${MODULE_FILES[@]}" "$work/")
	log "building the $side module against $release"
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEFILES -u KCFLAGS -u KCPPFLAGS \
		-u ARCH -u CROSS_COMPILE -u CC -u KBUILD_OUTPUT -u KBUILD_EXTMOD \
		-u KBUILD_VERBOSE -u O -u M -u W -u C \
		LC_ALL=C make -C "$kdir" M="$work" modules \
		KCFLAGS="-ffile-prefix-map=$tree= -ffile-prefix-map=$work=/usr/src/pairmod" \
		CONFIG_DEBUG_INFO_BTF_MODULES= >&2 ||
		die "the $side build failed"
	local ko=$work/pairmod.ko
	[[ -s $ko ]] || die "the $side build made no pairmod.ko"
	[[ $(readelf -S "$ko") == *" .debug_info "* ]] ||
		die "the $side pairmod.ko has no .debug_info"
	[[ $(nm "$ko") == *" __ksymtab_pairmod_"* ]] ||
		die "the $side pairmod.ko has no __ksymtab_pairmod_* symbols"
	mkdir -p "$CACHE/$side"
	cp "$ko" "$CACHE/$side/pairmod.ko.tmp"
	mv -f "$CACHE/$side/pairmod.ko.tmp" "$CACHE/$side/pairmod.ko"
	side_pkgs "$side" >"$CACHE/$side/PACKAGES"
	nm "$ko" | sed -n 's/.* __ksymtab_//p' | LC_ALL=C sort >"$CACHE/$side/EXPORTS"
}

rm -f "$CACHE/STAMP"
extract_side old "$OLD_RELEASE"
extract_side new "$NEW_RELEASE"
build_side old "$OLD_RELEASE"
build_side new "$NEW_RELEASE"
printf '%s\n' "$STAMP" >"$CACHE/STAMP"

log "exports: $(tr '\n' ' ' <"$CACHE/old/EXPORTS")"
log "old: $CACHE/old/pairmod.ko ($OLD_RELEASE, $OLD_VERSION)"
log "new: $CACHE/new/pairmod.ko ($NEW_RELEASE, $NEW_VERSION)"
log "done in $((SECONDS - start)) s"
printf '%s\n' "$CACHE"
