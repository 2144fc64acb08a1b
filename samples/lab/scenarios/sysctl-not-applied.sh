#!/bin/sh
# nfdiag-about: /etc/sysctl.d/90-conntrack.conf sets net.netfilter.nf_conntrack_max=262144 (and the established timeout) but the boot script's `sysctl -p /etc/sysctl.d/90-conntrack.conf` runs before nf_conntrack is loaded (its real stdout/stderr go to syslog; `sysctl --system` of procps 4.0.2 prints no error for the missing keys, shown on the console only); the firewall loads the module afterwards, so the runtime max stays at the default 8192
# nfdiag-expected: {"top": "conntrack-sysctl-not-applied", "include": ["conntrack-sysctl-not-applied"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args:
. /lab/lib.sh
mkdir -p /etc/sysctl.d
cat > /etc/sysctl.d/90-conntrack.conf <<'CONF'
# sized for the proxy tier
net.netfilter.nf_conntrack_max = 262144
net.netfilter.nf_conntrack_tcp_timeout_established = 86400
CONF
snap "boot, before sysctl"
show sysctl --system
logged sysctl sysctl -p /etc/sysctl.d/90-conntrack.conf
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p tcp --dport 8080 -j ACCEPT
snap "firewall loaded"
nfload tcp-server 127.0.0.1 8080 60 &
sleep 1
nfload tcp-connect 127.0.0.1 8080 500 2000 0
show sysctl net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
snap "after some traffic"
