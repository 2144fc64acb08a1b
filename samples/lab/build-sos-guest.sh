#!/bin/bash
# Build the Debian-userland lab guest used for sosreport samples (lab-notes §B/§C), in the cache:
#   $NFDIAG_LAB_CACHE/debian-rootfs/   debootstrap --variant=minbase bookworm + sosreport & netfilter tools
#   $NFDIAG_LAB_CACHE/debian.img       ext4 image of it (mkfs.ext4 -d), copied per run (fresh boot)
#   $NFDIAG_LAB_CACHE/stage1.cpio.gz   tiny busybox initramfs: loads virtio/ext4, mounts /dev/vda,
#                                      copies the per-run /lab files in, switch_root to /lab/init-debian
# Needs samples/lab/build-vm.sh to have run first (kernel, netfilter module tree, nfload).
# Scenarios opt in with the header "# nfdiag-guest: debian-sos" (see run-scenario.sh).
set -euo pipefail

CACHE=${NFDIAG_LAB_CACHE:-/var/cache/nfdiag-lab}
MIRROR=${NFDIAG_LAB_MIRROR:-http://deb.debian.org/debian}
log() { printf '[build-sos-guest] %s\n' "$*" >&2; }
[ -f "$CACHE/kernel-release" ] || { log "run build-vm.sh first"; exit 1; }
KVER=$(cat "$CACHE/kernel-release")
D="$CACHE/debian-rootfs"
cd "$CACHE"

if [ ! -x "$D/usr/bin/sos" ]; then
    command -v debootstrap >/dev/null || { log "apt-get install debootstrap first"; exit 1; }
    rm -rf "$D"
    debootstrap --variant=minbase \
        --include=sosreport,iptables,nftables,conntrack,ipset,kmod,iproute2,procps,rsyslog,gzip,xz-utils \
        bookworm "$D" "$MIRROR"
fi

# clean identity: debootstrap copies the build host's /etc/hostname and /etc/resolv.conf
echo lab-guest > "$D/etc/hostname"
rm -f "$D/etc/resolv.conf"
: > "$D/etc/resolv.conf"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tlab-guest\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$D/etc/hosts"
rm -f "$D/etc/machine-id" "$D/var/lib/dbus/machine-id"
rm -rf "$D"/var/cache/apt/archives/*.deb "$D"/var/lib/apt/lists/* "$D"/var/log/* "$D"/tmp/* "$D"/root/.bash_history
mkdir -p "$D/var/log" "$D/lab" "$D/usr/local/sbin" "$D/run/netns"

# the guest kernel's netfilter module tree (same closure as the busybox guest) and the traffic tool
rm -rf "$D/usr/lib/modules"
mkdir -p "$D/usr/lib/modules"
cp -a "$CACHE/rootfs/usr/lib/modules/$KVER" "$D/usr/lib/modules/"
cp "$CACHE/nfload" "$D/usr/local/sbin/nfload"

# second-stage init (runs in Debian, /bin/sh = dash)
cat > "$D/lab/init-debian" <<'EOF'
#!/bin/sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/lock /run/netns
hostname lab-guest
ip link set lo up
( sleep 280; echo "NFDIAG-LAB: guest watchdog fired" > /dev/ttyS0; echo o > /proc/sysrq-trigger ) &
echo "NFDIAG-LAB: debian guest up $(uname -r) $(date -u +%FT%TZ)" > /dev/ttyS0
rsyslogd
sleep 1
cd /lab
sh /lab/run-guest.sh > /dev/ttyS0 2>&1
sync
echo o > /proc/sysrq-trigger
sleep 10
EOF
chmod 755 "$D/lab/init-debian"

# ext4 image
rm -f "$CACHE/debian.img"
truncate -s 1536M "$CACHE/debian.img"
mkfs.ext4 -q -F -L labroot -d "$D" "$CACHE/debian.img"

# stage-1 initramfs
S="$CACHE/stage1"
rm -rf "$S"
mkdir -p "$S"/usr/bin "$S"/usr/lib/x86_64-linux-gnu "$S"/usr/lib64 "$S"/proc "$S"/sys "$S"/dev "$S"/newroot "$S"/mods
ln -s usr/bin "$S/bin"; ln -s usr/bin "$S/sbin"; ln -s usr/lib "$S/lib"; ln -s usr/lib64 "$S/lib64"
cp /usr/bin/busybox "$S/usr/bin/busybox"
for a in sh mount umount insmod switch_root mkdir cp sleep echo cat ls; do ln -s busybox "$S/usr/bin/$a"; done
for lib in $(ldd /usr/bin/busybox | awk '/=> \// {print $3} /^[[:space:]]*\/lib/ {print $1}'); do
    cp -L "$lib" "$S/usr/lib/x86_64-linux-gnu/" 2>/dev/null || true
done
cp -L /lib64/ld-linux-x86-64.so.2 "$S/usr/lib64/"
: > "$S/mods/order"
for m in virtio_pci virtio_blk ext4; do
    modprobe -d "$CACHE/kpkg" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" {print $2}' | while read -r ko; do
        b=$(basename "$ko")
        grep -qx "$b" "$S/mods/order" && continue
        cp "$ko" "$S/mods/$b"
        echo "$b" >> "$S/mods/order"
    done
done
cat > "$S/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /mods/order); do insmod /mods/$m; done
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mount -t ext4 /dev/vda /newroot || { echo "stage1: cannot mount /dev/vda"; sleep 5; echo o > /proc/sysrq-trigger; }
cp -a /lab/. /newroot/lab/
cp -a /usr/local/sbin/. /newroot/usr/local/sbin/
umount /proc /sys /dev
exec switch_root /newroot /lab/init-debian
EOF
chmod 755 "$S/init"
mkdir -p "$S/lab" "$S/usr/local/sbin"
(cd "$S" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$CACHE/stage1.cpio.gz"
log "debian.img $(du -h "$CACHE/debian.img" | cut -f1) (apparent $(du -h --apparent-size "$CACHE/debian.img" | cut -f1)), stage1 $(du -h "$CACHE/stage1.cpio.gz" | cut -f1)"
