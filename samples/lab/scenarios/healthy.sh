#!/bin/sh
# nfdiag-about: busy but fine: an nftables stateful ruleset from /etc/nftables.conf, default conntrack sizing, 600 short and 200 held loopback TCP connections plus 300 UDP datagrams from one socket to the accepted udp/53 (no listener: ICMP port unreachable, one entry); nothing wrong
# nfdiag-expected: {"top": "none", "include": [], "exclude": ["conntrack-table-full", "conntrack-near-capacity", "conntrack-loaded-unused", "conntrack-invalid-drops", "log-rule-flood", "conntrack-hash-undersized", "neighbour-table-overflow", "iptables-backend-mismatch", "missing-extension-module", "conntrack-module-blocked"]}
# nfdiag-collect-args:
. /lab/lib.sh
cat > /etc/nftables.conf <<'NFT'
#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iif "lo" accept
		tcp dport { 22, 80, 443 } accept
		udp dport 53 accept
		icmp type echo-request limit rate 5/second accept
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
snap "ruleset loaded"
nfload tcp-server 127.0.0.1 80 150 &
nfload tcp-server 127.0.0.1 443 150 &
sleep 1
nfload tcp-connect 127.0.0.1 80 600 2000 0
nfload tcp-connect 127.0.0.1 443 200 2000 120 &
nfload udp-send 127.0.0.1 53 300 1
sleep 4
snap "traffic done"
