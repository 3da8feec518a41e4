#!/bin/sh
# Installs the Debian packages shoal needs, and only those that are missing.
# Usage: deploy/deps.sh [build|guest|test|bench]  (each level includes the
# previous; guest is what deploy/guest-image.sh needs to build Linux and busybox)
# Contract: checks every package with dpkg-query first; calls apt-get only when
# something is missing, through sudo when not root. Exits non-zero if the
# install fails, naming the packages.
set -eu
level=${1:-build}
pkgs="make gcc pkg-config libzmq3-dev libmsgpack-dev libnuma-dev liburing-dev \
libcmocka-dev libfdt-dev libslirp-dev gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu"
guest="libc6-dev-riscv64-cross linux-source-6.1 opensbi flex bison bc cpio dpkg-dev xz-utils \
bzip2 gzip"
testing="clang clang-format cppcheck git gcovr doxygen python3 procps util-linux"
case "$level" in
  build) ;;
  guest) pkgs="$pkgs $guest" ;;
  test) pkgs="$pkgs $guest $testing" ;;
  bench) pkgs="$pkgs $guest $testing qemu-system-misc gnuplot-nox fio" ;;
  *) echo "deps.sh: unknown level '$level': expected build, guest, test or bench" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps.sh: installing missing Debian packages:$missing" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || { echo "deps.sh: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
  { echo "deps.sh: apt-get install failed for:$missing" >&2; exit 1; }
