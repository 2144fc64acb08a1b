#!/bin/sh
# nfdiag-about: the table-full situation of soundcloud-stateful (legacy stateful rule, max 256, 600 loopback connections) collected with a starved collector (`--max-seconds 15 --max-file-bytes 8192 --sample-seconds 1`): real truncation and budget skips recorded in the manifest
# nfdiag-expected: {"top": "conntrack-table-full", "include": ["conntrack-table-full", "bundle-incomplete"], "exclude": ["neighbour-table-overflow"]}
# nfdiag-collect-args: --max-seconds 15 --max-file-bytes 8192 --sample-seconds 1
. /lab/lib.sh
show iptables-legacy -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables-legacy -A INPUT -p tcp --dport 8080 -j ACCEPT
setsys net.netfilter.nf_conntrack_max 256
nfload tcp-server 127.0.0.1 8080 150 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 600 1500 120 &
sleep 12
snap "after the flood"
