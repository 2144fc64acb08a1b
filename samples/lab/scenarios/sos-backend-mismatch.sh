#!/bin/sh
# nfdiag-guest: debian-sos
# nfdiag-about: backend-mismatch in a Debian 12 userland, collected with sosreport: legacy rules (DROP tcp/8080) from an old script next to iptables-nft rules (ACCEPT tcp/8080); connections to 8080 time out
# nfdiag-expected: {"top": "iptables-backend-mismatch", "include": ["iptables-backend-mismatch"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
. /lab/lib.sh
show iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 22 -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 8080 -j DROP
show iptables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-nft -A INPUT -p tcp --dport 8080 -j ACCEPT
show iptables -L INPUT -n -v
snap "rules loaded"
nfload tcp-server 127.0.0.1 8080 60 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 20 1500 0
show iptables-legacy -L INPUT -n -v
