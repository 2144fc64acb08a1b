#!/bin/sh
# nfdiag-guest: debian-sos
# nfdiag-about: soundcloud-stateful in a Debian 12 userland, collected with sosreport: `iptables-legacy -t nat -L -n` loads nf_conntrack, a legacy stateful rule is added, nf_conntrack_max lowered to 256, 600 loopback TCP connections (established ones held): table full
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full"], "exclude": ["conntrack-near-capacity", "neighbour-table-overflow"]}
. /lab/lib.sh
snap "fresh boot"
show iptables-legacy -L -n
show iptables-legacy -t nat -L -n
snap "after listing the nat table"
show iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 8080 -j ACCEPT
setsys net.netfilter.nf_conntrack_max 256
nfload tcp-server 127.0.0.1 8080 250 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 600 1500 230 &
sleep 12
snap "after the flood"
