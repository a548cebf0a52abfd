#!/usr/bin/env bash
# Build the reference gendwarfksyms (the "oracle") from Debian's kernel source
# package, for differential tests of ksymrules.
#
#   export KSYMRULES_ORACLE="$(tests/oracle/build.sh)"
#
# The last line on stdout is the absolute path of the built binary; progress
# goes to stderr. Everything downloaded or extracted stays in the cache
# directory (${KSYMRULES_ORACLE_CACHE:-$HOME/.cache/ksymrules-oracle}); nothing
# of the kernel's code enters the repository. A run that finds the binary
# already built prints its path and does nothing else. See README.md here.
#
# The machine's apt setup is left alone: a private apt configuration (its own
# sources list, state and cache directories under the cache directory) reaches
# the Debian archive through the mirror that the machine's own apt sources name.
set -euo pipefail

CACHE=${KSYMRULES_ORACLE_CACHE:-${HOME:?}/.cache/ksymrules-oracle}
# Suites searched for linux-source-N.M packages (newest version wins).
SUITES=${KSYMRULES_ORACLE_SUITES:-trixie-backports trixie}
DEFAULT_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
CC=${CC:-gcc}

log() { printf 'oracle: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# --- fast path: already built ------------------------------------------------
if [[ -x $CACHE/bin/gendwarfksyms && -s $CACHE/bin/VERSION ]]; then
	CACHE=$(cd "$CACHE" && pwd -P)
	printf '%s\n' "$CACHE/bin/gendwarfksyms"
	exit 0
fi

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd -P)
BIN=$CACHE/bin/gendwarfksyms

# One build at a time (tests may start several callers at once).
exec 9>"$CACHE/.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if [[ -x $BIN && -s $CACHE/bin/VERSION ]]; then
	printf '%s\n' "$BIN"
	exit 0
fi

start=$SECONDS
log "building the reference gendwarfksyms in $CACHE"

# --- build dependencies (machine's own apt) ----------------------------------
missing=()
for p in libdw-dev libelf-dev zlib1g-dev xz-utils; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done
command -v "$CC" >/dev/null || missing+=(gcc)
if ((${#missing[@]})); then
	if ((EUID != 0)); then
		die "missing packages: ${missing[*]} (install them, or run this as root)"
	fi
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y -q "${missing[@]}" >&2; then
		apt-get update -q >&2
		apt-get install -y -q "${missing[@]}" >&2
	fi
fi

# --- the machine's Debian mirror ---------------------------------------------
# Prints "URI<TAB>signed-by" for each non-security `deb` source the machine has.
machine_sources() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r $f ]] || continue
		awk -v RS= -F'\n' '
		{
			types = ""; uris = ""; sb = ""; enabled = "yes"
			for (i = 1; i <= NF; i++) {
				line = $i
				if (line ~ /^#/ || line !~ /^[A-Za-z-]+:/) continue
				k = tolower(substr(line, 1, index(line, ":") - 1))
				v = substr(line, index(line, ":") + 1)
				gsub(/^[ \t]+|[ \t]+$/, "", v)
				if (k == "types") types = v
				else if (k == "uris") uris = v
				else if (k == "signed-by") sb = v
				else if (k == "enabled") enabled = tolower(v)
			}
			if (enabled == "no" || (" " types " ") !~ / deb /) next
			n = split(uris, u, /[ \t]+/)
			for (j = 1; j <= n; j++)
				if (u[j] != "" && u[j] !~ /security/) print u[j] "\t" sb
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
			if ($i !~ /security/) print $i "\t" sb
		}' "$f"
	done
}

mirror=${KSYMRULES_ORACLE_MIRROR:-}
keyring=$DEFAULT_KEYRING
if [[ -z $mirror ]]; then
	line=$(machine_sources | head -n 1)
	[[ -n $line ]] || die "no Debian mirror found in /etc/apt/sources.list{,.d/}; set KSYMRULES_ORACLE_MIRROR"
	mirror=${line%%$'\t'*}
	sb=${line#*$'\t'}
	if [[ -n $sb && -r $sb ]]; then
		keyring=$sb
	fi
fi
[[ -r $keyring ]] || die "no archive keyring at $keyring (apt-get install debian-archive-keyring)"
log "mirror $mirror, keyring $keyring, suites: $SUITES"

# --- private apt configuration -----------------------------------------------
APTDIR=$CACHE/apt
mkdir -p "$APTDIR/parts" "$APTDIR/preferences.d" "$APTDIR/state/lists/partial" \
	"$APTDIR/cache/archives/partial"
: >"$APTDIR/status"
arch=$(dpkg --print-architecture)
{
	for s in $SUITES; do
		printf 'deb [arch=%s signed-by=%s] %s %s main\n' "$arch" "$keyring" "$mirror" "$s"
	done
} >"$APTDIR/sources.list"
# Don't run the machine's update/dpkg hooks for this private configuration.
cat >"$APTDIR/apt.conf" <<'EOF'
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
papt_get() { apt-get "${APT_OPTS[@]}" "$@"; }
papt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

log "updating the private package lists"
# apt-get update fails on an index whose signature the keyring can't verify.
papt_get -q update >&2 ||
	die "apt-get update failed (is $keyring recent enough to verify $SUITES?)"

# --- choose linux-source-N.M, newest first -------------------------------------
# Prints the newest of the versions read from stdin (one a line).
max_version() {
	local v best=""
	while read -r v; do
		[[ -n $v ]] || continue
		if [[ -z $best ]] || dpkg --compare-versions "$v" gt "$best"; then
			best=$v
		fi
	done
	printf '%s\n' "$best"
}

# Lines "package version" (each package's newest version), newest first.
candidates() {
	local pkg ver sorted=() i
	while read -r pkg; do
		[[ $pkg =~ ^linux-source-[0-9]+\.[0-9]+$ ]] || continue
		ver=$(papt_cache madison "$pkg" | awk -F'|' '{gsub(/ /, "", $2); print $2}' | max_version)
		[[ -n $ver ]] || continue
		i=0
		while ((i < ${#sorted[@]})) && dpkg --compare-versions "${sorted[i]#* }" ge "$ver"; do
			i=$((i + 1))
		done
		sorted=("${sorted[@]:0:i}" "$pkg $ver" "${sorted[@]:i}")
	done < <(papt_cache pkgnames linux-source-)
	if ((${#sorted[@]})); then
		printf '%s\n' "${sorted[@]}"
	fi
}

mapfile -t cands < <(candidates)
((${#cands[@]})) || die "no linux-source-N.M package in $SUITES"
log "candidates: ${cands[*]/%/;}"

SRC=""
for c in "${cands[@]}"; do
	pkg=${c%% *}
	ver=${c#* }
	debdir=$CACHE/debs
	mkdir -p "$debdir"
	# (apt writes an epoch's ':' as %3a in file names)
	deb=$(find "$debdir" -maxdepth 1 -name "${pkg}_${ver/:/%3a}_*.deb" -print -quit)
	if [[ -z $deb ]]; then
		log "downloading $pkg $ver"
		tmpdl=$(mktemp -d "$CACHE/dl.XXXXXX")
		(cd "$tmpdl" && papt_get -q download "$pkg=$ver" >&2)
		for f in "$tmpdl"/*.deb; do
			[[ -e $f ]] || die "apt-get download produced no .deb"
			mv "$f" "$debdir/"
			deb=$debdir/${f##*/}
		done
		rmdir "$tmpdl"
	fi
	log "extracting scripts/gendwarfksyms and scripts/include from $deb"
	src=$CACHE/src/$pkg
	rm -rf "$src"
	mkdir -p "$CACHE/src"
	# The .deb holds /usr/src/$pkg.tar.xz; stream it out and extract selectively.
	if ! dpkg-deb --fsys-tarfile "$deb" |
		tar -xOf - "./usr/src/$pkg.tar.xz" |
		tar -xJf - -C "$CACHE/src" --wildcards \
			"$pkg/scripts/gendwarfksyms/*" "$pkg/scripts/include/*" \
			"$pkg/COPYING" "$pkg/LICENSES/preferred/GPL-2.0"; then
		# tar fails when a member is missing: check below what we did get.
		:
	fi
	if [[ -f $src/scripts/gendwarfksyms/gendwarfksyms.c ]]; then
		SRC=$src
		VERSION="$pkg $ver"
		find "$debdir" -maxdepth 1 -name '*.deb' ! -path "$deb" -delete
		break
	fi
	log "$pkg $ver has no scripts/gendwarfksyms; trying an older one"
	rm -rf "$src"
done
[[ -n $SRC ]] || die "no linux-source package with scripts/gendwarfksyms in $SUITES"
log "using $VERSION"

# --- build ---------------------------------------------------------------------
# gendwarfksyms is a kbuild hostprog: HOSTCC with KBUILD_HOSTCFLAGS (see the
# kernel's top-level Makefile) and HOSTLDLIBS_gendwarfksyms (its Makefile).
mkdir -p "$CACHE/bin"
tmpbin=$(mktemp "$CACHE/bin/.gendwarfksyms.XXXXXX")
trap 'rm -f "$tmpbin"' EXIT
read -r -a lfs <<<"$(getconf LFS_CFLAGS 2>/dev/null || true)"
log "compiling with $CC"
"$CC" -Wall -Wmissing-prototypes -Wstrict-prototypes -O2 -fomit-frame-pointer \
	-std=gnu11 "${lfs[@]}" -I "$SRC/scripts/include" \
	-o "$tmpbin" "$SRC"/scripts/gendwarfksyms/*.c -ldw -lelf -lz >&2
chmod 755 "$tmpbin"

# Smoke test: an empty symbol list prints nothing and exits 0.
out=$("$tmpbin" /dev/null </dev/null) || die "the built binary fails its smoke test"
[[ -z $out ]] || die "the built binary printed '$out' for an empty symbol list"

rm -rf "$CACHE/examples"
cp -r "$SRC/scripts/gendwarfksyms/examples" "$CACHE/examples"
printf '%s\n' "$VERSION" >"$CACHE/bin/VERSION"
mv -f "$tmpbin" "$BIN"
trap - EXIT
# The package lists are only needed to pick and download; keep the .deb.
rm -rf "$APTDIR/state" "$APTDIR/cache"

log "version: $VERSION (recorded in $CACHE/bin/VERSION)"
log "examples: $CACHE/examples"
log "done in $((SECONDS - start)) s"
printf '%s\n' "$BIN"
