#!/bin/sh
# nfdiag-about: negative control: a veth pair to a namespace created in the guest (10.199.0.1/16 <-> 10.199.0.2/16), gc_thresh1/2/3 lowered to 8/16/32, one UDP datagram to each of 300 unanswered addresses of that /16 on the veth: "neighbour: arp_cache: neighbor table overflow!"; stateful firewall with a normal conntrack table
# nfdiag-expected: {"top": "neighbour-table-overflow", "include": ["neighbour-table-overflow"], "exclude": ["conntrack-table-full", "conntrack-near-capacity", "conntrack-memory-pressure"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 22 -j ACCEPT
show ip netns add lab-peer
show ip link add veth-lab type veth peer name veth-peer
show ip link set veth-peer netns lab-peer
show ip addr add 10.199.0.1/16 dev veth-lab
show ip link set veth-lab up
show ip netns exec lab-peer ip addr add 10.199.0.2/16 dev veth-peer
show ip netns exec lab-peer ip link set veth-peer up
show ip netns exec lab-peer ip link set lo up
setsys net.ipv4.neigh.default.gc_thresh1 8
setsys net.ipv4.neigh.default.gc_thresh2 16
setsys net.ipv4.neigh.default.gc_thresh3 32
sleep 1
show ping -c 2 -W 1 10.199.0.2
nfload udp-hosts 10.199.1 9 300
sleep 3
say "neighbour entries on veth-lab: $(ip neigh show dev veth-lab | wc -l)"
snap "after the sweep"
