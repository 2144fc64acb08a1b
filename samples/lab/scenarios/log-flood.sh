#!/bin/sh
# nfdiag-about: a LOG rule without any limit on INPUT (`-p udp --dport 5140 -j LOG --log-prefix "INPUT-UDP: "`) and a bounded burst of 1500 UDP datagrams on loopback: the kernel ring buffer (128 KiB) ends up holding almost only LOG lines
# nfdiag-expected: {"top": "log-rule-flood", "include": ["log-rule-flood"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p udp --dport 5140 -j LOG --log-prefix "INPUT-UDP: "
show iptables -A INPUT -p udp --dport 5140 -j ACCEPT
snap "rules loaded"
say "ring before the burst: $(dmesg | wc -l) lines, first: $(dmesg | head -1 | cut -c1-60)"
nfload udp-send 127.0.0.1 5140 1500 1
sleep 2
say "ring after the burst: $(dmesg | wc -l) lines, $(dmesg | grep -c 'INPUT-UDP: ') LOG lines, first: $(dmesg | head -1 | cut -c1-60)"
snap "after the burst"
