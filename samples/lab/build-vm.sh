#!/bin/bash
# Build the nfdiag lab VM pieces into a cache OUTSIDE the repo:
#   $NFDIAG_LAB_CACHE (default /var/cache/nfdiag-lab)/
#     linux-image-*.deb, kpkg/ (dpkg -x of it)   Debian's stock 6.1 kernel and its modules
#     vmlinuz                                     the kernel QEMU boots
#     base.cpio.gz                                busybox initramfs: netfilter modules + userland tools
#     rootfs/                                     the staging tree of base.cpio.gz
#     nfload                                      static traffic tool (samples/lab/tools/nfload.c)
# The per-run pieces (scenario script, collector) are appended by run-scenario.sh as a second cpio.
# Userland binaries are copied from THIS machine's Debian 12 packages, with their libraries (ldd);
# nothing of this machine's identity (hostname, /etc contents, logs) goes into the image.
set -euo pipefail

CACHE=${NFDIAG_LAB_CACHE:-/var/cache/nfdiag-lab}
HERE=$(cd "$(dirname "$0")" && pwd)
KPKG=${NFDIAG_LAB_KERNEL_PKG:-}

mkdir -p "$CACHE"
cd "$CACHE"

log() { printf '[build-vm] %s\n' "$*" >&2; }

for t in apt-get apt-cache dpkg depmod cpio gzip gcc ldd busybox; do
    command -v "$t" >/dev/null || { log "missing tool: $t"; exit 1; }
done

# 1. kernel package: the newest linux-image-6.1.0-<N>-amd64 the archive offers (what linux-image-amd64 depends on)
if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6\.1\.0-[0-9]+-amd64$/ {print $2; exit}')
fi
if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
fi
[ -n "$KPKG" ] || { log "no linux-image-6.1.0-N-amd64 package found"; exit 1; }
KVER=${KPKG#linux-image-}
log "kernel package $KPKG (uname -r $KVER)"
if ! ls "$CACHE/${KPKG}"_*.deb >/dev/null 2>&1; then
    apt-get download "$KPKG"
fi
DEB=$(ls "$CACHE/${KPKG}"_*.deb | sort -V | tail -1)
if [ ! -f "kpkg/boot/vmlinuz-$KVER" ]; then
    rm -rf kpkg
    dpkg -x "$DEB" kpkg
fi
cp -f "kpkg/boot/vmlinuz-$KVER" vmlinuz
dpkg-deb -f "$DEB" Version > kernel-package-version
echo "$KPKG" > kernel-package-name
echo "$KVER" > kernel-release

# 2. traffic tool
gcc -O2 -Wall -static -o nfload "$HERE/tools/nfload.c"

# 3. rootfs staging tree (merged /usr like Debian 12)
R="$CACHE/rootfs"
rm -rf "$R"
mkdir -p "$R"/usr/bin "$R"/usr/sbin "$R"/usr/lib/x86_64-linux-gnu "$R"/usr/lib64 "$R"/usr/local/sbin \
    "$R"/etc "$R"/proc "$R"/sys "$R"/dev "$R"/run "$R"/tmp "$R"/root "$R"/var/log "$R"/var/spool/rsyslog \
    "$R"/var/lib "$R"/lab "$R"/mnt
ln -s usr/bin "$R/bin"
ln -s usr/sbin "$R/sbin"
ln -s usr/lib "$R/lib"
ln -s usr/lib64 "$R/lib64"
ln -s ../run "$R/var/run"
chmod 1777 "$R/tmp"

# copy one host path into the rootfs at its canonical (merged-usr) location, keeping symlinks
copy_path() {
    local src=$1 dir base dst
    [ -e "$src" ] || [ -L "$src" ] || return 0
    dir=$(readlink -f "$(dirname "$src")")
    base=$(basename "$src")
    dst="$R$dir/$base"
    [ -e "$dst" ] || [ -L "$dst" ] && return 0
    mkdir -p "$R$dir"
    cp -P "$src" "$dst"
    if [ -L "$src" ]; then
        local tgt
        tgt=$(readlink -f "$src")
        [ -e "$tgt" ] && copy_path "$tgt"
    fi
    return 0
}

# binaries and plugin dirs of the packages the guest needs
PKGS="iptables libxtables12 libip4tc2 libip6tc2 nftables libnftables1 conntrack ipset libipset13 kmod iproute2 procps rsyslog"
for p in $PKGS; do
    dpkg -L "$p" 2>/dev/null | grep -E '^/(usr/)?(s?bin)/|^/usr/lib/x86_64-linux-gnu/(xtables|rsyslog)/|^/usr/lib/x86_64-linux-gnu/lib.*\.so' \
        | while read -r f; do [ -d "$f" ] && continue; copy_path "$f"; done
done
# util-linux pieces a Debian host has and our collector may call
for f in /usr/bin/dmesg /usr/bin/logger /usr/bin/uptime /usr/bin/flock /usr/bin/nsenter /usr/bin/unshare \
         /usr/bin/gzip /usr/bin/tar /usr/bin/date /usr/bin/sort /usr/bin/timeout /usr/bin/env /usr/bin/stat \
         /usr/bin/find /usr/bin/xargs /usr/bin/sha256sum /usr/bin/base64; do
    copy_path "$f"
done
# iproute2 data files (rt_tables etc.)
[ -d /usr/share/iproute2 ] && mkdir -p "$R/usr/share" && cp -a /usr/share/iproute2 "$R/usr/share/"
[ -d /etc/iproute2 ] && cp -a /etc/iproute2 "$R/etc/"

# busybox for everything else (sh, awk, sed, grep, mount, ps, nc, ...)
cp /usr/bin/busybox "$R/usr/bin/busybox"
for a in $(busybox --list); do
    [ -e "$R/usr/bin/$a" ] || [ -e "$R/usr/sbin/$a" ] || [ -L "$R/usr/bin/$a" ] || [ -L "$R/usr/sbin/$a" ] && continue
    ln -s busybox "$R/usr/bin/$a"
done
ln -sf busybox "$R/usr/bin/sh"
cp nfload "$R/usr/local/sbin/nfload"

# shared libraries of every ELF file (iterate: plugins pull in more)
copy_libs() {
    find "$R" -type f \( -perm -u+x -o -name '*.so*' \) -print0 | while IFS= read -r -d '' f; do
        file -b "$f" 2>/dev/null | grep -q ELF || continue
        { ldd "$f" 2>/dev/null || true; } | awk '/=> \// {print $3} /^[[:space:]]*\/lib/ {print $1}'
    done | sort -u | while read -r lib; do copy_path "$lib"; done
}
copy_libs
copy_libs
copy_path /lib64/ld-linux-x86-64.so.2
# NSS for name lookups by libc (files only)
for f in /usr/lib/x86_64-linux-gnu/libnss_files.so.2; do copy_path "$f"; done

# 4. kernel modules: netfilter trees + veth + their dependency closure
KM="$CACHE/kpkg/lib/modules/$KVER"
MD="$R/usr/lib/modules/$KVER"
mkdir -p "$MD/kernel"
cp "$KM"/modules.builtin "$KM"/modules.builtin.modinfo "$KM"/modules.order "$MD/"
depmod -b "$CACHE/kpkg" "$KVER"
want=$(cd "$KM" && find kernel/net/netfilter kernel/net/ipv4/netfilter kernel/net/ipv6/netfilter \
    kernel/net/bridge/netfilter kernel/drivers/net/veth.ko kernel/drivers/net/dummy.ko -name '*.ko*')
closure=$( (for m in $want; do echo "$m"; grep "^$m:" "$KM/modules.dep" | cut -d: -f2 | tr ' ' '\n'; done) | grep . | sort -u)
# softdeps (libcrc32c -> crc32c) are not in modules.dep
closure="$closure
$(cd "$KM" && find kernel/crypto kernel/arch/x86/crypto -name 'crc32c*.ko*')"
for m in $(echo "$closure" | sort -u); do
    mkdir -p "$MD/$(dirname "$m")"
    cp "$KM/$m" "$MD/$m"
    for d in $(grep "^$m:" "$KM/modules.dep" | cut -d: -f2); do
        mkdir -p "$MD/$(dirname "$d")"
        cp -n "$KM/$d" "$MD/$d"
    done
done
depmod -b "$R" "$KVER"
log "modules in guest: $(find "$MD" -name '*.ko*' | wc -l)"

# 5. /etc of a clean guest (nothing from this machine's identity)
cat > "$R/etc/hostname" <<'EOF'
lab-guest
EOF
cat > "$R/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	lab-guest
::1		localhost ip6-localhost ip6-loopback
EOF
cat > "$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$R/etc/group" <<'EOF'
root:x:0:
adm:x:4:
nogroup:x:65534:
EOF
printf 'hosts: files\nprotocols: files\nservices: files\npasswd: files\ngroup: files\n' > "$R/etc/nsswitch.conf"
cp /etc/protocols /etc/services "$R/etc/" 2>/dev/null || true
[ -f /etc/ethertypes ] && cp /etc/ethertypes "$R/etc/"
cp /usr/lib/os-release "$R/usr/lib/os-release"
ln -sf ../usr/lib/os-release "$R/etc/os-release"
cp /etc/debian_version "$R/etc/debian_version"
mkdir -p "$R/etc/modprobe.d" "$R/etc/sysctl.d" "$R/etc/modules-load.d" "$R/etc/iptables" "$R/etc/rsyslog.d" "$R/etc/alternatives"
printf '/usr/lib/x86_64-linux-gnu\n/usr/local/lib\n' > "$R/etc/ld.so.conf"
ldconfig -r "$R" 2>/dev/null || true
# Debian alternatives: iptables -> nft backend (the Debian 12 default)
for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    b=${t/iptables/iptables-nft}; b=${b/ip6tables/ip6tables-nft}
    ln -sf "/usr/sbin/$b" "$R/etc/alternatives/$t"
    ln -sf "/etc/alternatives/$t" "$R/usr/sbin/$t"
done
# rsyslog: Debian 12's default rules (package conffile), imklog + imuxsock
cat > "$R/etc/rsyslog.conf" <<'EOF'
module(load="imuxsock") # provides support for local system logging
module(load="imklog")   # provides kernel logging support
$FileOwner root
$FileGroup adm
$FileCreateMode 0640
$DirCreateMode 0755
$Umask 0022
$WorkDirectory /var/spool/rsyslog
$IncludeConfig /etc/rsyslog.d/*.conf
*.*;auth,authpriv.none		-/var/log/syslog
auth,authpriv.*			/var/log/auth.log
cron.*				-/var/log/cron.log
kern.*				-/var/log/kern.log
mail.*				-/var/log/mail.log
user.*				-/var/log/user.log
*.emerg				:omusrmsg:*
EOF

# 6. init
cat > "$R/init" <<'EOF'
#!/bin/sh
# nfdiag lab guest init: mount, start syslog, run /lab/scenario.sh, run the collector,
# write the tarball base64-encoded to /dev/ttyS1 between markers, power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C
umask 022
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock /run/netns
hostname lab-guest
ip link set lo up
# watchdog: never outlive the host-side timeout
( sleep 270; echo "NFDIAG-LAB: guest watchdog fired" > /dev/ttyS0; poweroff -f ) &
echo "NFDIAG-LAB: guest up $(uname -r) $(date -u +%FT%TZ)" > /dev/ttyS0
rsyslogd
sleep 1
cd /lab
sh /lab/run-guest.sh > /dev/ttyS0 2>&1
sync
poweroff -f
EOF
chmod 755 "$R/init"

# 7. pack
(cd "$R" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 > "$CACHE/base.cpio.gz.tmp"
mv "$CACHE/base.cpio.gz.tmp" "$CACHE/base.cpio.gz"
log "base initramfs: $(du -h "$CACHE/base.cpio.gz" | cut -f1), kernel $(cat kernel-package-name) $(cat kernel-package-version)"
