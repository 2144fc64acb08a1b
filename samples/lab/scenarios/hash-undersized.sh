#!/bin/sh
# nfdiag-about: nf_conntrack_max raised x16 (8192 -> 131072) from /etc/sysctl.d without touching nf_conntrack_buckets (stays 8192), then 32000 loopback TCP connections over 4 server ports are held established: about 4 entries per bucket (conntrack dump capped by --max-file-bytes)
# nfdiag-expected: {"top": "conntrack-hash-undersized", "include": ["conntrack-hash-undersized"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args: --max-file-bytes 2097152
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp -m multiport --dports 8080:8083 -j ACCEPT
mkdir -p /etc/sysctl.d
echo "net.netfilter.nf_conntrack_max = 131072" > /etc/sysctl.d/90-conntrack-max.conf
show sysctl -p /etc/sysctl.d/90-conntrack-max.conf
snap "max raised"
for p in 8080 8081 8082 8083; do nfload tcp-sink 127.0.0.1 $p 260 & done
sleep 1
for p in 8080 8081 8082 8083; do nfload tcp-connect 127.0.0.1 $p 8000 5000 240 & sleep 2; done
i=0
while [ $i -lt 60 ]; do
    sleep 2
    c=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
    [ "$c" -ge 31900 ] && break
    i=$((i + 1))
done
snap "connections held"
