#!/bin/sh
# nfdiag-about: an old script adds rules with iptables-legacy (DROP tcp/8080) while the current tooling uses iptables-nft (ACCEPT tcp/8080); `iptables -L` (nft) shows only the ACCEPT, connections to 8080 time out
# nfdiag-expected: {"top": "iptables-backend-mismatch", "include": ["iptables-backend-mismatch"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 22 -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 8080 -j DROP
show iptables-nft -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-nft -A INPUT -p tcp --dport 8080 -j ACCEPT
show iptables -L INPUT -n -v
show iptables-nft-save
snap "rules loaded"
nfload tcp-server 127.0.0.1 8080 60 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 20 1500 0
show iptables-legacy -L INPUT -n -v
