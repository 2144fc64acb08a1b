#!/bin/sh
# nfdiag-about: stateful iptables-nft rules, default nf_conntrack_max (8192 on this 1 GiB guest), 7500 loopback TCP connections held established: count at 91-92 % of max, no drop
# nfdiag-expected: {"top": "conntrack-near-capacity", "include": ["conntrack-near-capacity"], "exclude": ["conntrack-table-full", "conntrack-loaded-unused", "neighbour-table-overflow"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 8080 -j ACCEPT
snap "rules loaded"
nfload tcp-server 127.0.0.1 8080 200 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 7500 3000 170 &
i=0
while [ $i -lt 40 ]; do
    sleep 2
    c=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
    [ "$c" -ge 7500 ] && break
    i=$((i + 1))
done
snap "connections held"
