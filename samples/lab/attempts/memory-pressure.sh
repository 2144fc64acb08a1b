#!/bin/sh
# ATTEMPT, NOT A SAMPLE (kept out of scenarios/ so that 'run-scenario.sh all' stays green): on the 1 GiB
# busybox guest the global OOM killer fired while the tmpfs was still being filled (MemFree between 96 and 40 MB),
# killed every unprotected process and the kernel panicked ("System is deadlocked on memory") before the
# conntrack bursts ran; the try before (MemFree 48/16 MB targets) ended the same way, and the very first one
# (tmpfs on /dev/shm, capped at half the RAM) made 40000 entries without any allocation failure. To rerun it: copy it
# into scenarios/ and run-scenario.sh memory-pressure.
# nfdiag-about: conntrack allocations failing for lack of memory: nf_conntrack_max raised to 262144, a tmpfs file fills the guest's RAM (no swap) until MemFree is about 40 MB, then 4 bounded bursts of 50000 unreplied UDP datagrams to distinct loopback ports (a DROP rule sinks them after conntrack) need ~200000 entries; rsyslogd and the scenario shell are protected with oom_score_adj -1000, the senders offered with +1000; the tmpfs file is truncated (shell builtins, no fork) right after, so the collector runs with memory back (evidence left: kernel log, counters, slabinfo)
# nfdiag-expected: {"top": "conntrack-memory-pressure", "include": ["conntrack-memory-pressure"], "exclude": ["conntrack-table-full", "conntrack-near-capacity"]}
# nfdiag-collect-args: --max-file-bytes 1048576
. /lab/lib.sh
show iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
show iptables -A INPUT -p udp --dport 10000:59999 -j DROP
setsys net.netfilter.nf_conntrack_max 262144
echo -1000 > /proc/self/oom_score_adj
for p in $(pidof rsyslogd); do echo -1000 > /proc/$p/oom_score_adj; done
memfree() { awk '/^MemFree:/ {print int($2 / 1024)}' /proc/meminfo; }
say "MemFree before: $(memfree) MB"
mkdir -p /mnt/fill
mount -t tmpfs -o size=95% tmpfs /mnt/fill
i=0
while [ $i -lt 200 ] && [ "$(memfree)" -gt 96 ]; do
    dd if=/dev/zero of=/mnt/fill/f$i bs=1M count=8 2>/dev/null || break
    i=$((i + 1))
done
j=0
while [ $j -lt 64 ] && [ "$(memfree)" -gt 40 ]; do
    dd if=/dev/zero of=/mnt/fill/g$j bs=1M count=1 2>/dev/null || break
    j=$((j + 1))
done
say "filled $((i * 8 + j)) MB of tmpfs; MemFree now $(memfree) MB; $(grep -E '^nf_conntrack ' /proc/slabinfo | awk '{print "nf_conntrack slab objs", $3}')"
# 4 senders, each its own socket (source port): 4 x 50000 distinct tuples; no fork between them and the truncation
sh -c 'echo 1000 > /proc/self/oom_score_adj; exec nfload udp-send 127.0.0.1 10000 50000 50000' > /tmp/b1 2>&1
sh -c 'echo 1000 > /proc/self/oom_score_adj; exec nfload udp-send 127.0.0.1 10000 50000 50000' > /tmp/b2 2>&1
sh -c 'echo 1000 > /proc/self/oom_score_adj; exec nfload udp-send 127.0.0.1 10000 50000 50000' > /tmp/b3 2>&1
sh -c 'echo 1000 > /proc/self/oom_score_adj; exec nfload udp-send 127.0.0.1 10000 50000 50000' > /tmp/b4 2>&1
read -r c < /proc/sys/net/netfilter/nf_conntrack_count
for f in /mnt/fill/*; do : > "$f"; done
say "bursts done, count was $c; tmpfs truncated; MemFree $(memfree) MB"
cat /tmp/b1 /tmp/b2 /tmp/b3 /tmp/b4
umount /mnt/fill
snap "after the bursts"
grep -E '^nf_conntrack ' /proc/slabinfo | sed 's/^/[lab]   /'
dmesg | grep -E 'allocation failure|invoked oom|Killed process|nf_conntrack' | head -8 | sed 's/^/[lab]   /'
