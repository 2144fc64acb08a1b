#!/usr/bin/env bash
# Live end-to-end check on this machine's own kernel: a real "table full" in namespaces
# (samples/lab/live-netns.sh) → our collector → the analyzer → conntrack-table-full expected.
# The bundle describes this machine: it is analyzed and deleted, never kept.
# Prints one line "live: passed|failed|not run: <why>"; exit 0 passed or not run, 1 failed.
set -uo pipefail
cd "$(dirname "$0")/.."

why_not=""
if [ "$(id -u)" != 0 ]; then why_not="needs root (network namespaces, global nf_conntrack_max)"
elif ! command -v ip >/dev/null || ! command -v nft >/dev/null; then why_not="iproute2/nftables not installed"
elif ! ip netns add "nfdiag-probe-$$" 2>/dev/null; then why_not="cannot create network namespaces here"
else ip netns del "nfdiag-probe-$$"
fi
if [ -z "$why_not" ] && [ ! -w /proc/sys/net/netfilter/nf_conntrack_max ]; then why_not="nf_conntrack_max not writable (no conntrack in this kernel?)"; fi
if [ -n "$why_not" ]; then
  echo "live: not run: $why_not"
  exit 0
fi

work=$(mktemp -d /tmp/nfdiag-live-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
if ! bash samples/lab/live-netns.sh "$work" > "$work/out.txt" 2> "$work/err.txt"; then
  echo "live: failed: the namespace scenario did not complete:"
  tail -5 "$work/err.txt" | sed 's/^/  /'
  exit 1
fi
bundle=$(tail -n 1 "$work/out.txt")
node dist/src/cli.js analyze "$bundle" -o - -f json > "$work/report.json" 2> "$work/analyze.err"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const f = r.findings.find((x) => x.id === "conntrack-table-full");
  if (!f) { console.log("live: failed: no conntrack-table-full finding; got " + r.findings.map((x) => x.id).join(", ")); process.exit(1); }
  const ev = f.evidence.find((e) => /table full/.test(e.text));
  console.log(`live: passed: conntrack-table-full (${f.severity}, confidence ${f.confidence}) evidence ${ev ? ev.path + ":" + ev.line : "counters"}`);
' "$work/report.json"
