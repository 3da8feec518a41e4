#!/bin/sh
# Builds shoal's guest images from Debian packages into a cache keyed by
# their inputs, and prints the path of the result on stdout.
#
#   deploy/guest-image.sh kernel              -> .../linux-KEY/Image
#   deploy/guest-image.sh busybox             -> .../busybox-KEY/busybox
#   deploy/guest-image.sh initramfs OUT INIT [FILE...]
#        writes OUT (gzip'd newc cpio): busybox and its links in /bin, INIT
#        as /init, each FILE in /bin.
#
# Contract: the cache (SHOAL_CACHE, default ${XDG_CACHE_HOME:-~/.cache}/shoal)
# holds one directory per key; a key is a hash of everything the image is
# built from (this script, the config fragment, the Debian package versions,
# the cross compiler). A directory appears only once its build succeeded
# (built aside, then renamed), so an interrupted build is never reused.
# Concurrent callers serialise on a lock file. Progress goes to stderr; the
# full build log stays beside the cache entry when a build fails.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${SHOAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shoal}
cross=riscv64-linux-gnu-
jobs=$(nproc)

die() { echo "guest-image: $*" >&2; exit 1; }

pkgver() {
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null ||
    die "Debian package $1 is not installed: run deploy/deps.sh guest"
}

key() { # key NAME INPUT... : short hash of the inputs' contents
  name=$1; shift
  { for f in "$@"; do cat "$f"; done
    cat "$here/guest-image.sh"
    ${cross}gcc --version | head -1
  } | { cat; printf '%s' "$EXTRA_KEY"; } | sha256sum | cut -c1-16 |
    sed "s/^/$name-/"
}

# build NAME FUNCTION: runs FUNCTION in a scratch dir unless the cache holds
# NAME; the function leaves its product in $out.
build() {
  dir="$cache/$1"
  [ -d "$dir" ] && return 0
  mkdir -p "$cache"
  exec 9>"$cache/.lock"
  flock 9
  if [ ! -d "$dir" ]; then
    work="$cache/.work-$1"
    rm -rf "$work" "$dir.tmp"
    mkdir -p "$work" "$dir.tmp"
    out="$dir.tmp"
    echo "guest-image: building $1 (first use; cached in $cache)" >&2
    if ! (cd "$work" && "$2") >"$cache/$1.log" 2>&1; then
      tail -20 "$cache/$1.log" >&2
      die "building $1 failed; full log: $cache/$1.log"
    fi
    mv "$dir.tmp" "$dir"
    rm -rf "$work" "$cache/$1.log"
  fi
  exec 9>&-
}

kernel_build() {
  tar xf /usr/src/linux-source-6.1.tar.xz
  cd linux-source-6.1
  mk="make ARCH=riscv CROSS_COMPILE=$cross"
  $mk tinyconfig
  scripts/kconfig/merge_config.sh -m .config "$here/guest/linux.config"
  $mk olddefconfig
  # Every option the fragment names must survive olddefconfig.
  grep -E '^(CONFIG_|# CONFIG_)' "$here/guest/linux.config" | while read -r l; do
    grep -qxF "$l" .config || { echo "option lost in .config: $l"; exit 1; }
  done
  $mk -j"$jobs" Image
  cp arch/riscv/boot/Image .config "$out/"
}

# Debian's source archive, reached with a private apt configuration so the
# host's sources.list needs no deb-src line.
mirror() {
  m=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$m" ] || m=$(sed -n 's/^deb \(http[^ ]*\) .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}

busybox_build() {
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  mkdir -p apt/lists/partial apt/cache/archives/partial src
  echo "deb-src $(mirror) $codename main" >apt/sources.list
  a=$(pwd)/apt
  o="-o Dir::Etc::SourceList=$a/sources.list -o Dir::Etc::SourceParts=$a/none"
  o="$o -o Dir::State::Lists=$a/lists -o Dir::Cache=$a/cache -o Debug::NoLocking=1"
  # shellcheck disable=SC2086
  apt-get $o update
  # shellcheck disable=SC2086
  (cd src && apt-get $o source busybox)
  cd src/busybox-*/
  make defconfig
  sed -i -e 's/^# CONFIG_STATIC is not set/CONFIG_STATIC=y/' \
    -e 's/^CONFIG_TC=y/# CONFIG_TC is not set/' .config
  make -j"$jobs" CROSS_COMPILE=$cross
  make busybox.links
  cp busybox busybox.links .config "$out/"
}

cmd=${1:-}
case "$cmd" in
  kernel)
    EXTRA_KEY="linux-source-6.1=$(pkgver linux-source-6.1)"
    name=$(key linux "$here/guest/linux.config")
    build "$name" kernel_build
    echo "$cache/$name/Image"
    ;;
  busybox)
    # The binary index names the version `apt-get source` will fetch.
    EXTRA_KEY="busybox=$(apt-cache policy busybox | sed -n 's/ *Candidate: //p')"
    name=$(key busybox)
    build "$name" busybox_build
    echo "$cache/$name/busybox"
    ;;
  initramfs)
    [ $# -ge 3 ] || die "usage: guest-image.sh initramfs OUT INIT [FILE...]"
    outfile=$2 init=$3; shift 3
    bb=$("$0" busybox)
    root=$(mktemp -d)
    trap 'rm -rf "$root"' EXIT
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
      "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/etc"
    cp "$bb" "$root/bin/busybox"
    while read -r app; do
      [ -e "$root/$app" ] || ln -s /bin/busybox "$root/$app"
    done <"$(dirname "$bb")/busybox.links"
    cp "$init" "$root/init"
    chmod 755 "$root/init"
    for f in "$@"; do cp "$f" "$root/bin/"; done
    (cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) |
      gzip -9n >"$outfile.tmp"
    mv "$outfile.tmp" "$outfile"
    ;;
  *) die "usage: guest-image.sh kernel|busybox|initramfs OUT INIT [FILE...]" ;;
esac
