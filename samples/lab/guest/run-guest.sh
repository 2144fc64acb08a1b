# Guest-side driver (run by /init inside the lab VM): scenario, collector, tarball out on /dev/ttyS1.
. /lab/lib.sh
SCEN=$(cat /lab/scenario-name)
say "scenario $SCEN on $(uname -r), hostname $(hostname), $(date -u +%FT%TZ)"
say "modules at boot: $(awk '{printf "%s ", $1}' /proc/modules)"
t0=$(date +%s)
timeout 200 sh /lab/scenario.sh
say "scenario exit=$? after $(( $(date +%s) - t0 )) s"
snap "before collector"
klog_summary
sleep 1
mkdir -p /tmp/nfdiag-out
cd /tmp/nfdiag-out
KIND=$(cat /lab/guest-kind 2>/dev/null)
t1=$(date +%s)
if [ "$KIND" = debian-sos ]; then
    # lab-notes §C: Debian 12's sos 4.0; process.lsof off (it waits on dropped loopback connections)
    mkdir -p /tmp/sos
    set -- sos report --batch --all-logs -o networking,kernel,logs,process,memory -k process.lsof=off \
        -z gzip --tmp-dir /tmp/sos
    say "sosreport: $*"
    timeout 200 "$@" > /tmp/collector.stdout 2> /tmp/collector.stderr
    rc=$?
    say "sosreport exit=$rc after $(( $(date +%s) - t1 )) s"
else
    ARGS="-o /tmp/nfdiag-out $(cat /lab/collect-args 2>/dev/null)"
    say "collector: sh /usr/local/sbin/nfdiag-collect.sh $ARGS"
    timeout 180 sh /usr/local/sbin/nfdiag-collect.sh $ARGS > /tmp/collector.stdout 2> /tmp/collector.stderr
    rc=$?
    say "collector exit=$rc after $(( $(date +%s) - t1 )) s"
fi
sed 's/^/[collector stdout] /' /tmp/collector.stdout | tail -20
sed 's/^/[collector stderr] /' /tmp/collector.stderr | tail -40
snap "after collector"
out=$(grep -o '/[^ ]*\.tar\.gz' /tmp/collector.stdout | tail -1)
[ -f "$out" ] || out=$(ls -t /tmp/nfdiag-out/*.tar.gz /tmp/*.tar.gz /root/*.tar.gz 2>/dev/null | head -1)
if [ -f "$out" ]; then
    say "bundle $out $(wc -c < "$out") bytes"
    stty -F /dev/ttyS1 raw -echo 2>/dev/null
    { echo "NFDIAG-BUNDLE-BEGIN $(basename "$out")"; base64 "$out"; echo "NFDIAG-BUNDLE-END"; } > /dev/ttyS1
else
    say "no bundle produced"
fi
say "done"
