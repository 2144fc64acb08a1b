#!/bin/sh
# nfdiag-about: ftp helper attached explicitly (`-t raw -A OUTPUT -p tcp --dport 21 -j CT --helper ftp`), nf_conntrack_expect_max lowered to 4, a fake FTP server on 127.0.0.1:21 answering PASV, 12 control connections each asking for PASV: 4 expectations fit, the rest hit "expectation table full"
# nfdiag-expected: {"top": "conntrack-expect-table-full", "include": ["conntrack-expect-table-full"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -t raw -A OUTPUT -o lo -p tcp --dport 21 -j CT --helper ftp
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 21 -j ACCEPT
setsys net.netfilter.nf_conntrack_expect_max 4
snap "rules loaded"
nfload ftp-server 127.0.0.1 21 150 &
sleep 1
nfload ftp-client 127.0.0.1 21 12 130 &
sleep 10
show cat /proc/net/nf_conntrack_expect
snap "after the FTP sessions"
