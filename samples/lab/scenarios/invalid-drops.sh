#!/bin/sh
# nfdiag-about: `-m conntrack --ctstate INVALID -j DROP` in INPUT, nf_conntrack_tcp_loose=0, 50 established loopback TCP connections exchanging data; the conntrack table is flushed (`conntrack -F`, as after a failover) and their later mid-stream segments are classified INVALID and dropped
# nfdiag-expected: {"top": "conntrack-invalid-drops", "include": ["conntrack-invalid-drops"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate INVALID -j DROP
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 8080 -j ACCEPT
setsys net.netfilter.nf_conntrack_tcp_loose 0
snap "rules loaded"
nfload tcp-server 127.0.0.1 8080 120 &
sleep 1
# 50 connections, 40 rounds of 1-byte writes 500 ms apart (20 s)
nfload tcp-chatter 127.0.0.1 8080 50 40 500 &
sleep 4
show conntrack -F
sleep 25
snap "after the flush"
show iptables -L INPUT -n -v
