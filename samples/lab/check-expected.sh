#!/bin/bash
# Analyze every samples/<name>/bundle.tar.gz (or the names given) with the repo's CLI and compare the
# findings with samples/<name>/expected.json: top = first finding (or "none"), every "include" id
# present, no "exclude" id present. Exit 1 on any mismatch. Usage: samples/lab/check-expected.sh [name...]
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    for d in samples/*/; do [ -f "$d/expected.json" ] && names+=("$(basename "$d")"); done
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
for n in "${names[@]}"; do
    if ! timeout 300 npx --no-install tsx src/cli.ts analyze "samples/$n/bundle.tar.gz" -o - -f json > "$TMP/$n.json" 2> "$TMP/$n.err"; then
        echo "$n ANALYZER-FAILED $(tail -n 1 "$TMP/$n.err")"; fail=1; continue
    fi
    node -e '
        const fs = require("fs");
        const [exp, rep, name] = process.argv.slice(1);
        const e = JSON.parse(fs.readFileSync(exp, "utf8")), r = JSON.parse(fs.readFileSync(rep, "utf8"));
        const ids = r.findings.map(f => f.id), top = ids[0] ?? "none", p = [];
        if (e.top !== top) p.push(`top ${top} != ${e.top}`);
        for (const i of e.include) if (!ids.includes(i)) p.push(`missing ${i}`);
        for (const i of e.exclude) if (ids.includes(i)) p.push(`unexpected ${i}`);
        console.log(`${name} ${p.length ? "MISMATCH " + p.join("; ") : "OK"} | ${r.findings.map(f => `${f.id}(${f.severity})`).join(", ")}`);
        process.exit(p.length ? 1 : 0);
    ' "samples/$n/expected.json" "$TMP/$n.json" "$n" || fail=1
done
exit $fail
