#!/bin/sh
# nfdiag-about: a 100000-rule blocklist in /etc/iptables/rules.v4 restored with iptables-legacy-restore from inside a memory cgroup (cgroup v2 memory.max, like a container or a systemd MemoryMax=): tried with 32M, 48M, 64M and 96M limits, every attempt's output and exit status go to syslog, the kernel's reaction is in dmesg
# nfdiag-expected: {"top": "ruleset-too-large", "include": ["ruleset-too-large"], "exclude": ["conntrack-memory-pressure", "conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args: --max-file-bytes 1048576
. /lab/lib.sh
mkdir -p /etc/iptables /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
awk 'BEGIN {
    print "*filter"
    print ":INPUT ACCEPT [0:0]"; print ":FORWARD DROP [0:0]"; print ":OUTPUT ACCEPT [0:0]"
    print ":BLOCKLIST - [0:0]"
    print "-A INPUT -i lo -j ACCEPT"
    print "-A INPUT -j BLOCKLIST"
    for (i = 0; i < 100000; i++)
        printf "-A BLOCKLIST -s 10.%d.%d.%d/32 -j DROP\n", 100 + int(i / 62500), int(i / 250) % 250, i % 250 + 1
    print "COMMIT"
}' > /etc/iptables/rules.v4
say "rules file: $(wc -l < /etc/iptables/rules.v4) lines, $(wc -c < /etc/iptables/rules.v4) bytes"
for lim in 32M 48M 64M 96M; do
    mkdir -p /sys/fs/cgroup/fw-$lim
    echo $lim > /sys/fs/cgroup/fw-$lim/memory.max
    t0=$(date +%s)
    logged iptables-restore sh -c "echo \$\$ > /sys/fs/cgroup/fw-$lim/cgroup.procs; exec iptables-legacy-restore < /etc/iptables/rules.v4"
    rc=$?
    say "memory.max=$lim: rc=$rc after $(( $(date +%s) - t0 )) s, peak $(cat /sys/fs/cgroup/fw-$lim/memory.peak 2>/dev/null || echo ?), events: $(tr '\n' ' ' < /sys/fs/cgroup/fw-$lim/memory.events)"
    [ $rc -eq 0 ] && break
done
say "legacy filter rules loaded: $(iptables-legacy-save 2>/dev/null | grep -c '^-A')"
dmesg | grep -iE 'oom|alloc|vmalloc|killed|Memory cgroup' | tail -12 | sed 's/^/[lab]   /'
