#!/bin/sh
# nfdiag-about: nftables ruleset from /etc/nftables.conf with `ct state established,related accept`, nf_conntrack_max lowered to 512, 900 loopback TCP connections in the initial namespace (established ones held open): classic "table full, dropping packet"
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full"], "exclude": ["conntrack-loaded-unused", "neighbour-table-overflow"]}
# nfdiag-collect-args:
. /lab/lib.sh
cat > /etc/nftables.conf <<'NFT'
#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" ct state established,related accept
		ct state established,related accept
		ct state invalid drop
		tcp dport { 22, 8080 } accept
		iif "lo" accept
		icmp type echo-request accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
	}
	chain output {
		type filter hook output priority filter; policy accept;
	}
}
NFT
show nft -f /etc/nftables.conf
mkdir -p /etc/sysctl.d
echo "net.netfilter.nf_conntrack_max = 512" > /etc/sysctl.d/90-conntrack.conf
show sysctl -p /etc/sysctl.d/90-conntrack.conf
snap "ruleset loaded"
nfload tcp-server 127.0.0.1 8080 150 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 900 1500 120 &
sleep 15
snap "after the flood"
