#!/bin/sh
# nfdiag-about: /etc/modprobe.d/blacklist-conntrack.conf holds a plain `blacklist nf_conntrack`; `iptables-legacy -t nat -L -n` still loads nf_conntrack as a dependency of iptable_nat/nf_nat; no rule uses it; then a bounded loopback flood (count stays 0 on 6.1)
# nfdiag-expected: {"top": "conntrack-loaded-unused", "include": ["conntrack-loaded-unused"], "exclude": ["conntrack-module-blocked", "conntrack-table-full"]}
# nfdiag-collect-args:
. /lab/lib.sh
mkdir -p /etc/modprobe.d
cat > /etc/modprobe.d/blacklist-conntrack.conf <<'CONF'
# no connection tracking on this host
blacklist nf_conntrack
CONF
snap "fresh boot"
show iptables-legacy -t nat -L -n
snap "after listing the nat table"
nfload tcp-server 127.0.0.1 8080 60 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 2000 2000 0
snap "after the flood"
