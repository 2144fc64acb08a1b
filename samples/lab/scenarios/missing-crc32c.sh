#!/bin/sh
# nfdiag-about: the crc32c modules (crc32c_generic, crc32c-intel: the softdep of libcrc32c, which nf_conntrack/nf_nat/nf_tables need) removed from the guest's module tree (depmod -a); then the nat table is needed: `iptables-legacy -t nat -L -n`, `modprobe nf_conntrack` and an iptables-nft MASQUERADE rule; outputs go to syslog
# nfdiag-expected: {"top": "missing-extension-module", "include": ["missing-extension-module"], "exclude": ["conntrack-module-blocked", "conntrack-table-full"]}
# nfdiag-collect-args:
. /lab/lib.sh
KDIR=/lib/modules/$(uname -r)
show sh -c "find $KDIR -name 'crc32c*' ; modprobe -c | grep -i 'softdep libcrc32c'"
find $KDIR -name 'crc32c*.ko*' -exec rm -f {} +
show depmod -a
logged root iptables-legacy -t nat -L -n
logged root modprobe nf_conntrack
logged root iptables -t nat -A POSTROUTING -s 10.88.0.0/16 -j MASQUERADE
show lsmod
snap "after the attempts"
