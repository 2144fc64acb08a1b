# Helpers sourced by the guest-side scenario scripts (busybox sh inside the lab VM).
# Everything here is bounded: fixed counts, fixed timeouts, loopback or in-guest namespaces only.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { echo "[lab] $*"; }

# run a command, show it and its output and exit code on the console (the run log)
show() {
    echo "[lab] \$ $*"
    "$@" 2>&1 | sed 's/^/[lab]   /'
}

# run a command like an admin/boot script would, logging its output to syslog with TAG
logged() {
    tag=$1; shift
    echo "[lab] \$ $* (output -> syslog tag $tag)"
    "$@" > /tmp/logged.out 2>&1
    rc=$?
    sed 's/^/[lab]   /' /tmp/logged.out
    if [ -s /tmp/logged.out ]; then
        logger -t "$tag" -p user.err -f /tmp/logged.out
    fi
    echo "[lab]   rc=$rc"
    return $rc
}

# print a summary of the conntrack counters without loading any module
hex2dec() { printf '%d' "0x$1" 2>/dev/null || echo 0; }
snap() {
    label=$1
    if [ -r /proc/sys/net/netfilter/nf_conntrack_count ]; then
        c=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
        m=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
        b=$(cat /proc/sys/net/netfilter/nf_conntrack_buckets)
        stats=$(awk 'NR==1 { for (i = 1; i <= NF; i++) h[i] = $i; next }
            { for (i = 1; i <= NF; i++) if (h[i] ~ /^(drop|early_drop|invalid|insert_failed|expect_create|expect_delete|chaintoolong|search_restart|clash_resolve|entries)$/) v[h[i]] = v[h[i]] " " $i }
            END { for (k in v) printf "%s=%s;", k, v[k] }' /proc/net/stat/nf_conntrack)
        tot=""
        for kv in $(echo "$stats" | tr ' ;' '+\n' | sed 's/=+/=/'); do
            k=${kv%%=*}; vals=${kv#*=}; s=0
            for h in $(echo "$vals" | tr '+' ' '); do s=$((s + $(hex2dec "$h"))); done
            [ "$k" = entries ] && continue
            tot="$tot $k=$s"
        done
        echo "[lab] $label: nf_conntrack_count=$c max=$m buckets=$b stats(sum over cpus):$tot"
    else
        echo "[lab] $label: nf_conntrack not loaded (no /proc/sys/net/netfilter/nf_conntrack_count)"
    fi
    echo "[lab] $label: modules: $(awk '{printf "%s ", $1}' /proc/modules)"
}

# netfilter-related kernel log lines, summarized
klog_summary() {
    echo "[lab] dmesg: 'table full' lines: $(dmesg | grep -c 'table full')," \
        "'expectation table full': $(dmesg | grep -c 'expectation table full')," \
        "'callbacks suppressed': $(dmesg | grep -c 'callbacks suppressed')," \
        "'neighbor table overflow': $(dmesg | grep -c 'neighbor table overflow')," \
        "IN= lines: $(dmesg | grep -c ' IN=')," \
        "ring lines: $(dmesg | wc -l)"
    dmesg | grep -E 'conntrack|callbacks suppressed|neighbo|Set .* is full|x_tables|nf_tables|ip_set' | tail -8 | sed 's/^/[lab]   /'
}

# sysctl write, echoed
setsys() { echo "[lab] sysctl -w $1=$2"; sysctl -w "$1=$2" 2>&1 | sed 's/^/[lab]   /'; }
