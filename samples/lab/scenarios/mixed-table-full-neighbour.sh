#!/bin/sh
# nfdiag-about: both problems at once: nf_conntrack_max lowered to 256 with a stateful rule and a bounded loopback TCP flood (table full), plus gc_thresh1/2/3 lowered to 8/16/32 and a 300-address UDP sweep over a veth to an in-guest namespace (neighbour table overflow)
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full", "neighbour-table-overflow"], "exclude": ["conntrack-loaded-unused"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 8080 -j ACCEPT
setsys net.netfilter.nf_conntrack_max 256
show ip netns add lab-peer
show ip link add veth-lab type veth peer name veth-peer
show ip link set veth-peer netns lab-peer
show ip addr add 10.199.0.1/16 dev veth-lab
show ip link set veth-lab up
show ip netns exec lab-peer ip addr add 10.199.0.2/16 dev veth-peer
show ip netns exec lab-peer ip link set veth-peer up
setsys net.ipv4.neigh.default.gc_thresh1 8
setsys net.ipv4.neigh.default.gc_thresh2 16
setsys net.ipv4.neigh.default.gc_thresh3 32
nfload udp-hosts 10.199.1 9 300
nfload tcp-server 127.0.0.1 8080 150 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 600 1500 120 &
sleep 12
say "neighbour entries on veth-lab: $(ip neigh show dev veth-lab | wc -l)"
snap "after both"
