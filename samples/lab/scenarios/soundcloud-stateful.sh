#!/bin/sh
# nfdiag-about: seed 001 continued: fresh boot, `iptables-legacy -t nat -L -n` loads nf_conntrack, then a stateful rule is added, nf_conntrack_max lowered to 256 and a bounded loopback TCP flood (600 connections, established ones held open) fills the table
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full"], "exclude": ["conntrack-near-capacity", "neighbour-table-overflow"]}
# nfdiag-collect-args:
. /lab/lib.sh
snap "fresh boot"
show iptables-legacy -L -n
show iptables-legacy -t nat -L -n
snap "after listing the nat table"
show iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 8080 -j ACCEPT
setsys net.netfilter.nf_conntrack_max 256
nfload tcp-server 127.0.0.1 8080 150 &
sleep 1
# 600 connections, 1.5 s connect timeout each; established ones are held for 120 s (collector runs meanwhile)
nfload tcp-connect 127.0.0.1 8080 600 1500 120 &
sleep 12
snap "after the flood"
