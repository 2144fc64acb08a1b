#!/bin/sh
# nfdiag-about: the live-netns setup on 6.1: namespaces lab-srv and lab-cli inside the guest joined by a veth (10.231.77.1/30 <-> 10.231.77.2/30), an nft `ct state established,related accept` ruleset in lab-srv only, the global nf_conntrack_max lowered to 64 from the initial namespace, 160 TCP connections from lab-cli (established ones held): the table of lab-srv is full while the initial namespace tracks nothing; 6.1 logs the plain "table full, dropping packet" (no "in netns")
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full"], "exclude": ["conntrack-loaded-unused", "neighbour-table-overflow"]}
# nfdiag-collect-args: --netns all
. /lab/lib.sh
show ip netns add lab-srv
show ip netns add lab-cli
show ip -n lab-srv link add veth-srv type veth peer name veth-cli netns lab-cli
show ip -n lab-srv addr add 10.231.77.1/30 dev veth-srv
show ip -n lab-cli addr add 10.231.77.2/30 dev veth-cli
ip -n lab-srv link set lo up; ip -n lab-cli link set lo up
show ip -n lab-srv link set veth-srv up
show ip -n lab-cli link set veth-cli up
ip netns exec lab-srv nft -f - <<'NFT'
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport 8080 accept
		icmp type echo-request accept
	}
}
NFT
setsys net.netfilter.nf_conntrack_max 64
sleep 1
show ip netns exec lab-cli ping -c 1 -W 2 10.231.77.1
ip netns exec lab-srv nfload tcp-server 10.231.77.1 8080 150 &
sleep 1
ip netns exec lab-cli nfload tcp-connect 10.231.77.1 8080 160 3000 120 &
sleep 15
say "lab-srv: count=$(ip netns exec lab-srv cat /proc/sys/net/netfilter/nf_conntrack_count) $(ip netns exec lab-srv sh -c '. /lab/lib.sh; snap lab-srv' | sed 's/.*stats/stats/' | head -1)"
snap "initial namespace"
