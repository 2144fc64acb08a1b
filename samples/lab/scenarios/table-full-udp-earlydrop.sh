#!/bin/sh
# nfdiag-about: stateful iptables-nft rules, nf_conntrack_max lowered to 256, 3000 unreplied UDP datagrams to 3000 loopback ports (a sink rule drops them after conntrack saw them): the table fills with UNREPLIED entries, early_drop evicts them
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full"], "exclude": ["conntrack-loaded-unused", "neighbour-table-overflow"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p udp --dport 20000:29999 -j DROP
setsys net.netfilter.nf_conntrack_max 256
snap "rules loaded"
nfload udp-send 127.0.0.1 20000 3000 3000
snap "after the UDP burst"
sleep 2
nfload udp-send 127.0.0.1 23000 3000 3000
snap "after the second UDP burst"
