#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only those missing. Run as root (CI is root).
# chromium: browser test of report.html; shellcheck, dash, busybox: the collector's portability tests;
# xz-utils, zstd, bzip2, zip: building test archives; iptables, nftables, conntrack, ipset, iproute2:
# the live namespace scenario on this machine's kernel.
set -euo pipefail
declare -A pkg_for=(
  [chromium]=chromium [shellcheck]=shellcheck [dash]=dash [busybox]=busybox
  [xz]=xz-utils [zstd]=zstd [bzip2]=bzip2 [zip]=zip [unzip]=unzip
  [iptables]=iptables [nft]=nftables [conntrack]=conntrack [ipset]=ipset [ip]=iproute2 [ss]=iproute2
  [truncate]=coreutils [timeout]=coreutils [setpriv]=util-linux
)
missing=()
for cmd in "${!pkg_for[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_for[$cmd]}")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: all present" >&2
  exit 0
fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "system packages: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
