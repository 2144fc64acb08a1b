#!/bin/sh
# nfdiag-about: `ipset create blocklist hash:ip maxelem 64` referenced by an iptables-nft DROP rule; a blocklist update (`ipset restore` of 100 addresses) fails at element 65 with "Hash is full, cannot add more elements" (output to syslog); the kernel logs "Set blocklist is full, maxelem 64 reached"
# nfdiag-expected: {"top": "ipset-oversized", "include": ["ipset-oversized"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
show ipset create blocklist hash:ip maxelem 64
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -m set --match-set blocklist src -j DROP
i=1
: > /tmp/blocklist.restore
while [ $i -le 100 ]; do echo "add blocklist 10.66.$((i / 200)).$((i % 200 + 1))" >> /tmp/blocklist.restore; i=$((i + 1)); done
logged blocklist-update sh -c 'ipset -exist restore < /tmp/blocklist.restore'
show sh -c 'ipset list blocklist | head -8'
snap "after the update"
