#!/bin/sh
# nfdiag-about: /etc/modprobe.d/nf_conntrack.conf holds `install nf_conntrack /bin/false` (left from an old "keep conntrack out" change); later the nat table is needed: `iptables-legacy -t nat -L -n`, `modprobe iptable_nat` and an iptables-nft MASQUERADE rule all fail; outputs go to syslog
# nfdiag-expected: {"top": "conntrack-module-blocked", "include": ["conntrack-module-blocked"], "exclude": ["conntrack-table-full", "conntrack-loaded-unused"]}
# nfdiag-collect-args:
. /lab/lib.sh
mkdir -p /etc/modprobe.d
cat > /etc/modprobe.d/nf_conntrack.conf <<'CONF'
# keep connection tracking off this host (no NAT here)
install nf_conntrack /bin/false
CONF
logged root iptables-legacy -t nat -L -n
logged root modprobe iptable_nat
logged root iptables -t nat -A POSTROUTING -s 10.88.0.0/16 -j MASQUERADE
snap "after the attempts"
