#!/bin/sh
# nfdiag-about: entries outliving their connections: a raw-table rule drops FIN and RST on loopback before conntrack sees them (like a lossy middlebox), 3000 loopback TCP connections are opened and closed, so 3000 ESTABLISHED entries stay with the default 432000 s timeout although both applications closed them (sockstat: orphan 3000, the kernel keeps retrying FINs that are dropped)
# nfdiag-expected: {"top": "conntrack-timeouts-long", "include": ["conntrack-timeouts-long"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 8080 -j ACCEPT
show iptables -t raw -A OUTPUT -o lo -p tcp --tcp-flags FIN FIN -j DROP
show iptables -t raw -A OUTPUT -o lo -p tcp --tcp-flags RST RST -j DROP
snap "rules loaded"
nfload tcp-server 127.0.0.1 8080 20 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 3000 3000 2
sleep 20
say "TCP sockets: $(grep '^TCP:' /proc/net/sockstat)"
show sh -c "awk '{print \$3, \$6}' /proc/net/nf_conntrack | sort | uniq -c | sort -rn | head -5"
snap "after open/close"
