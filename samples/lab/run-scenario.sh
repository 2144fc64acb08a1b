#!/bin/bash
# Boot the lab VM for one scenario (or all) and store its bundle under samples/<scenario>/.
#   samples/lab/run-scenario.sh <name>|all
# Needs the cache built by samples/lab/build-vm.sh. Per run it appends a small cpio holding
# /lab/scenario.sh (samples/lab/scenarios/<name>.sh), the guest driver and our collector
# (src/collector/nfdiag-collect.sh) to the base initramfs, boots QEMU (software emulation,
# no network, 1 GiB, hard timeout 300 s, killed by PID on exit), reads the collector's tarball
# back from the guest's second serial port (base64 between markers) and writes
#   samples/<name>/bundle.tar.gz, samples/<name>/expected.json, samples/<name>/README.md.
# Scenario headers:   # nfdiag-expected: {"top": ..., "include": [...], "exclude": [...]}
#                     # nfdiag-collect-args: <collector options>
#                     # nfdiag-about: <one line: what the scenario does>
# The console log of each run stays in the cache: $CACHE/runs/<name>/console.log.
set -euo pipefail

CACHE=${NFDIAG_LAB_CACHE:-/var/cache/nfdiag-lab}
LAB=$(cd "$(dirname "$0")" && pwd)
SAMPLES=$(cd "$LAB/.." && pwd)
REPO=$(cd "$SAMPLES/.." && pwd)
COLLECTOR=${NFDIAG_COLLECTOR:-$REPO/src/collector/nfdiag-collect.sh}
QEMU_TIMEOUT=${NFDIAG_LAB_TIMEOUT:-300}

[ $# -eq 1 ] || { echo "usage: $0 <scenario>|all" >&2; exit 2; }
[ -f "$CACHE/base.cpio.gz" ] && [ -f "$CACHE/vmlinuz" ] || { echo "run $LAB/build-vm.sh first" >&2; exit 1; }
[ -f "$COLLECTOR" ] || { echo "collector not found: $COLLECTOR" >&2; exit 1; }

QPID=""
cleanup() { if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill "$QPID" 2>/dev/null || true; fi; }
trap cleanup EXIT INT TERM

header() { sed -n "s/^# $2: //p" "$1" | head -1; }

run_one() {
    local name=$1 scen="$LAB/scenarios/$1.sh"
    [ -f "$scen" ] || { echo "no such scenario: $scen" >&2; return 1; }
    local W="$CACHE/runs/$name"
    rm -rf "$W"
    mkdir -p "$W/stage/lab" "$W/stage/usr/local/sbin"
    cp "$scen" "$W/stage/lab/scenario.sh"
    cp "$LAB/guest/lib.sh" "$LAB/guest/run-guest.sh" "$W/stage/lab/"
    cp "$LAB/tools/"*.c "$W/stage/lab/" 2>/dev/null || true
    echo "$name" > "$W/stage/lab/scenario-name"
    header "$scen" nfdiag-collect-args > "$W/stage/lab/collect-args"
    cp "$COLLECTOR" "$W/stage/usr/local/sbin/nfdiag-collect.sh"
    chmod 755 "$W/stage/usr/local/sbin/nfdiag-collect.sh" "$W/stage/lab/scenario.sh"
    local kind drive=()
    kind=$(header "$scen" nfdiag-guest)
    echo "${kind:-busybox}" > "$W/stage/lab/guest-kind"
    (cd "$W/stage" && find . -print0 | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$W/run.cpio.gz"
    if [ "$kind" = debian-sos ]; then
        [ -f "$CACHE/debian.img" ] && [ -f "$CACHE/stage1.cpio.gz" ] || { echo "run $LAB/build-sos-guest.sh first" >&2; return 1; }
        cp --sparse=always "$CACHE/debian.img" "$W/disk.img"
        cat "$CACHE/stage1.cpio.gz" "$W/run.cpio.gz" > "$W/initrd"
        drive=(-drive "file=$W/disk.img,format=raw,if=virtio")
    else
        cat "$CACHE/base.cpio.gz" "$W/run.cpio.gz" > "$W/initrd"
    fi
    : > "$W/console.log"
    : > "$W/ttyS1.out"
    local t0 t1 rc=0
    t0=$(date +%s)
    echo "[run-scenario] $name: booting (timeout ${QEMU_TIMEOUT}s)"
    timeout "$QEMU_TIMEOUT" qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -nic none \
        -no-reboot -monitor none "${drive[@]}" \
        -kernel "$CACHE/vmlinuz" -initrd "$W/initrd" \
        -append "console=ttyS0 quiet panic=-1" \
        -serial "file:$W/console.log" -serial "file:$W/ttyS1.out" </dev/null >"$W/qemu.stdout" 2>&1 &
    QPID=$!
    wait "$QPID" || rc=$?
    QPID=""
    t1=$(date +%s)
    echo "[run-scenario] $name: VM exited rc=$rc after $((t1 - t0)) s"
    echo "$((t1 - t0))" > "$W/seconds"
    local fname
    fname=$(tr -d '\r' < "$W/ttyS1.out" | sed -n 's/^NFDIAG-BUNDLE-BEGIN //p' | head -1)
    if [ -z "$fname" ] || ! tr -d '\r' < "$W/ttyS1.out" | grep -q '^NFDIAG-BUNDLE-END'; then
        echo "[run-scenario] $name: no complete bundle on the guest's ttyS1; console tail:" >&2
        tail -30 "$W/console.log" | tr -d '\r' >&2
        return 1
    fi
    tr -d '\r' < "$W/ttyS1.out" | sed -n '/^NFDIAG-BUNDLE-BEGIN/,/^NFDIAG-BUNDLE-END/p' | sed '1d;$d' \
        | base64 -d > "$W/bundle.tar.gz"
    gzip -t "$W/bundle.tar.gz"
    local D="$SAMPLES/$name"
    mkdir -p "$D"
    cp "$W/bundle.tar.gz" "$D/bundle.tar.gz"
    local expected about kpkg kver cver
    cver=$(tar -xzOf "$D/bundle.tar.gz" --wildcards '*/manifest.json' 2>/dev/null | sed -n 's/.*"collector_version": *"\([^"]*\)".*/\1/p' | head -1)
    expected=$(header "$scen" nfdiag-expected)
    about=$(header "$scen" nfdiag-about)
    kpkg=$(cat "$CACHE/kernel-package-name"); kver=$(cat "$CACHE/kernel-package-version")
    if command -v node >/dev/null; then
        node -e 'process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]), null, 2) + "\n")' "$expected" > "$D/expected.json"
    else
        echo "$expected" > "$D/expected.json"
    fi
    if [ "$(cat "$W/stage/lab/guest-kind")" = debian-sos ]; then
        echo "Produced $(date -u +%F) by \`samples/lab/run-scenario.sh $name\` (guest script \`samples/lab/scenarios/$name.sh\`: $about) in a QEMU TCG guest booted with Debian's $kpkg $kver and a Debian 12 minbase userland (\`samples/lab/build-sos-guest.sh\`); the bundle is the sosreport made in-guest by Debian 12's sos 4.0 (\`sos report --batch --all-logs -o networking,kernel,logs,process,memory -k process.lsof=off -z gzip\`): $fname." > "$D/README.md"
    else
        echo "Produced $(date -u +%F) by \`samples/lab/run-scenario.sh $name\` (guest script \`samples/lab/scenarios/$name.sh\`: $about) in a QEMU TCG guest booted with Debian's $kpkg $kver, collected in-guest by \`src/collector/nfdiag-collect.sh\` ${cver:+$cver }($fname)." > "$D/README.md"
    fi
    echo "[run-scenario] $name: $(wc -c < "$D/bundle.tar.gz") bytes -> $D/bundle.tar.gz"
    tr -d '\r' < "$W/console.log" | grep -E '^\[lab\] [a-z].*(count=|: nfload|dmesg:|exit=|bundle)|^\[lab\]   ' | head -60 || true
}

if [ "$1" = all ]; then
    fails=""
    for s in "$LAB"/scenarios/*.sh; do
        n=$(basename "$s" .sh)
        run_one "$n" || fails="$fails $n"
    done
    [ -z "$fails" ] || { echo "[run-scenario] failed:$fails" >&2; exit 1; }
else
    run_one "$1"
fi
