#!/bin/bash
# live-netns.sh - a real "conntrack table full" on the machine's OWN kernel, for the CI live step.
#
#   sudo samples/lab/live-netns.sh [OUTDIR]
#
# Creates two network namespaces joined by a veth pair (10.231.77.1/30 <-> 10.231.77.2/30, used
# only between them), a stateful nftables rule in the server namespace, lowers the GLOBAL
# net.netfilter.nf_conntrack_max to 64 while a bounded client opens 160 TCP connections (short
# timeouts) into the server namespace: about 64 succeed, the rest are dropped ("table full in netns
# N" on 6.17+). Then it restores the max, runs our collector with --netns <server namespace>,
# prints the tarball path as the last stdout line and cleans everything up (sockets killed with
# `ss -K` inside the namespaces before deleting them). The bundle is for CI to analyze and throw
# away: it contains this machine's dmesg and identity, never commit it.
#
# Safety: traffic only between the two namespaces this script creates; every loop is bounded;
# every sysctl it touches is recorded and restored by an EXIT trap (also on error or Ctrl-C);
# processes are stopped by PID, namespaces deleted by name; the root namespace's rules are never
# touched. It refuses to lower the global max when the root namespace is tracking connections
# (nf_conntrack_count > NFDIAG_LIVE_MAX_ROOT_COUNT, default 16), because the max is global: set
# NFDIAG_LIVE_FORCE=1 to override on a disposable machine.
#
# Environment: NFDIAG_COLLECTOR (default src/collector/nfdiag-collect.sh of this repo),
#   NFDIAG_LIVE_KEEP_MAX=1 keeps the lowered max until after the collector ran (default: restore first),
#   NFDIAG_LIVE_CONNECTIONS (default 160, at most 1000), NFDIAG_LIVE_MAX (default 64).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
COLLECTOR=${NFDIAG_COLLECTOR:-$REPO/src/collector/nfdiag-collect.sh}
OUTDIR=${1:-$(mktemp -d /tmp/nfdiag-live.XXXXXX)}
NCONN=${NFDIAG_LIVE_CONNECTIONS:-160}
LOWMAX=${NFDIAG_LIVE_MAX:-64}
[ "$NCONN" -ge 1 ] && [ "$NCONN" -le 1000 ] || { echo "NFDIAG_LIVE_CONNECTIONS must be 1..1000" >&2; exit 2; }
[ "$LOWMAX" -ge 16 ] || { echo "NFDIAG_LIVE_MAX must be >= 16" >&2; exit 2; }

TAG=nfdl$$
NS_SRV=nfdiag-live-srv-$$
NS_CLI=nfdiag-live-cli-$$
VETH_S=${TAG}s
VETH_C=${TAG}c
SRV_IP=10.231.77.1
CLI_IP=10.231.77.2
PORT=8080
MAXF=/proc/sys/net/netfilter/nf_conntrack_max

say() { printf '[live-netns] %s\n' "$*" >&2; }

[ "$(id -u)" = 0 ] || { say "needs root"; exit 2; }
for t in ip nft ss; do command -v "$t" >/dev/null || { say "missing tool: $t"; exit 2; }; done
[ -f "$COLLECTOR" ] || { say "collector not found: $COLLECTOR"; exit 2; }
[ -w "$MAXF" ] || { say "$MAXF not writable (nf_conntrack not available?)"; exit 2; }

ORIG_MAX=""
PIDS=""
NS_MADE=""
restore_max() {
    if [ -n "$ORIG_MAX" ] && [ "$(cat "$MAXF")" != "$ORIG_MAX" ]; then
        echo "$ORIG_MAX" > "$MAXF" && say "restored nf_conntrack_max=$ORIG_MAX"
    fi
}
cleanup() {
    set +e
    restore_max
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do
        for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$p" 2>/dev/null
    done
    for ns in $NS_MADE; do
        ip netns exec "$ns" ss -K -t -a >/dev/null 2>&1
        ip netns exec "$ns" ss -K -u -a >/dev/null 2>&1
    done
    for ns in $NS_MADE; do ip netns del "$ns" 2>/dev/null; done
    say "cleaned up (namespaces:${NS_MADE:- none}, pids:${PIDS:- none})"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The max is global: do not lower it when the root namespace is tracking connections.
ROOT_COUNT=$(cat /proc/sys/net/netfilter/nf_conntrack_count 2>/dev/null || echo 0)
if [ "$ROOT_COUNT" -gt "${NFDIAG_LIVE_MAX_ROOT_COUNT:-16}" ] && [ "${NFDIAG_LIVE_FORCE:-0}" != 1 ]; then
    say "root namespace tracks $ROOT_COUNT connections: refusing to lower the global nf_conntrack_max (NFDIAG_LIVE_FORCE=1 overrides)"
    exit 3
fi

# --- namespaces and veth
ip netns add "$NS_SRV"; NS_MADE="$NS_SRV"
ip netns add "$NS_CLI"; NS_MADE="$NS_MADE $NS_CLI"
ip -n "$NS_SRV" link add "$VETH_S" type veth peer name "$VETH_C" netns "$NS_CLI"
ip -n "$NS_SRV" addr add "$SRV_IP/30" dev "$VETH_S"
ip -n "$NS_CLI" addr add "$CLI_IP/30" dev "$VETH_C"
for ns in "$NS_SRV" "$NS_CLI"; do ip -n "$ns" link set lo up; done
ip -n "$NS_SRV" link set "$VETH_S" up
ip -n "$NS_CLI" link set "$VETH_C" up
NS_INODE=$(ip netns exec "$NS_SRV" stat -L -c %i /proc/self/ns/net)
say "namespaces $NS_SRV (netns inode $NS_INODE) and $NS_CLI, veth $VETH_S/$VETH_C"

# --- stateful rule in the server namespace only
ip netns exec "$NS_SRV" nft -f - <<EOF
table inet nfdiag_live {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iif "lo" accept
		tcp dport $PORT accept
		icmp type echo-request accept
	}
}
EOF

# --- server (holds connections) and client: node if present, else bash /dev/tcp
if command -v node >/dev/null; then
    ip netns exec "$NS_SRV" node -e '
        const net = require("net"); const socks = [];
        const s = net.createServer(c => { socks.push(c); c.on("error", () => {}); });
        s.listen(Number(process.argv[2]), process.argv[1]);
        setTimeout(() => process.exit(0), 120000);
    ' "$SRV_IP" "$PORT" &
    PIDS="$PIDS $!"
else
    say "node not found: using bash /dev/tcp only for the client; server needs node or busybox nc"
    command -v busybox >/dev/null || { say "neither node nor busybox: no server"; exit 2; }
    ip netns exec "$NS_SRV" timeout 120 busybox nc -lk -p "$PORT" -s "$SRV_IP" >/dev/null &
    PIDS="$PIDS $!"
fi
for _ in 1 2 3 4 5 6 7 8 9 10; do
    ip netns exec "$NS_SRV" ss -ltn 2>/dev/null | grep -q ":$PORT " && break
    sleep 0.3
done
# connectivity check before the flood (bounded: 5 tries; a fresh veth may need a moment)
PING_OK=0
command -v ping >/dev/null || PING_OK=1   # no ping installed: the client's results will tell
for _ in 1 2 3 4 5; do
    [ "$PING_OK" = 1 ] && break
    if ip netns exec "$NS_CLI" ping -c 1 -W 1 "$SRV_IP" >/dev/null 2>&1; then PING_OK=1; break; fi
    sleep 0.5
done
[ "$PING_OK" = 1 ] || say "warning: no ping reply from $SRV_IP (continuing)"

ORIG_MAX=$(cat "$MAXF")
echo "$LOWMAX" > "$MAXF"
say "nf_conntrack_max $ORIG_MAX -> $LOWMAX (global; restored on exit)"

CLIENT_OUT=$(mktemp /tmp/nfdiag-live-client.XXXXXX)
if command -v node >/dev/null; then
    ip netns exec "$NS_CLI" node -e '
        const net = require("net");
        const [host, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
        let ok = 0, timeout = 0, err = 0, done = 0; const held = [];
        for (let i = 0; i < n; i++) {
            const c = net.connect({ host, port });
            const t = setTimeout(() => { timeout++; c.destroy(); fin(); }, 4000);
            c.on("connect", () => { clearTimeout(t); ok++; held.push(c); fin(); });
            c.on("error", () => { clearTimeout(t); err++; fin(); });
        }
        function fin() {
            if (++done < n) return;
            console.log(`attempted=${n} ok=${ok} timeout=${timeout} error=${err}`);
            setTimeout(() => { held.forEach(c => c.destroy()); process.exit(0); }, 60000);
        }
    ' "$SRV_IP" "$PORT" "$NCONN" > "$CLIENT_OUT" 2>&1 &
    CPID=$!
else
    ip netns exec "$NS_CLI" bash -c '
        ok=0; to=0; i=0
        while [ $i -lt "$3" ]; do
            for j in $(seq 1 32); do
                ( timeout 4 bash -c "exec 3<>/dev/tcp/$1/$2 && sleep 60" ) &
            done
            i=$((i + 32))
        done
        echo "attempted=$3 (bash client: per-connection results not counted)"
        wait
    ' _ "$SRV_IP" "$PORT" "$NCONN" > "$CLIENT_OUT" 2>&1 &
    CPID=$!
fi
PIDS="$PIDS $CPID"
for _ in $(seq 1 30); do
    grep -q attempted "$CLIENT_OUT" && break
    sleep 0.5
done
say "client: $(cat "$CLIENT_OUT")"
say "server namespace: nf_conntrack_count=$(ip netns exec "$NS_SRV" cat /proc/sys/net/netfilter/nf_conntrack_count)"
say "kernel: $(dmesg 2>/dev/null | grep -c "table full in netns $NS_INODE") 'table full in netns $NS_INODE' lines"

if [ "${NFDIAG_LIVE_KEEP_MAX:-0}" != 1 ]; then restore_max; fi

mkdir -p "$OUTDIR"
say "collector: sh $COLLECTOR -o $OUTDIR --netns $NS_SRV"
COUT=$(sh "$COLLECTOR" -o "$OUTDIR" --netns "$NS_SRV")
TARBALL=$(printf '%s\n' "$COUT" | tail -n 1)
rm -f "$CLIENT_OUT"
[ -f "$TARBALL" ] || { say "collector printed no tarball path"; exit 1; }
say "bundle: $TARBALL ($(wc -c < "$TARBALL") bytes)"
echo "$TARBALL"
