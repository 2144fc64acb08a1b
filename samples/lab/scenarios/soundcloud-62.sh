#!/bin/sh
# nfdiag-about: seed 001 on 6.1: fresh boot with no module loaded, `iptables-legacy -t nat -L -n` (loads nf_conntrack), then a bounded TCP connection flood on loopback with the default nf_conntrack_max
# nfdiag-expected: {"top": "conntrack-loaded-unused", "include": ["conntrack-loaded-unused"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
snap "fresh boot"
show iptables-legacy -L -n
show iptables-legacy -t nat -L -n
snap "after listing the nat table"
nfload tcp-server 127.0.0.1 8080 60 &
sleep 1
# the flood: 3000 short connections (each would leave a TIME_WAIT entry for 120 s if tracked)
nfload tcp-connect 127.0.0.1 8080 3000 2000 0
snap "after the flood"
