/**
 * conntrack-hash-undersized: nf_conntrack_max was raised but the hash (buckets) was not: long
 * chains make every lookup slower, and on 5.15+ an over-long chain refuses the insert
 * (`chaintoolong`), dropping the packet.
 */
import { Confidence } from "../src/engine/confidence.js";
import {
  ERA_LABEL,
  bucketsSysctlWritable,
  conntrackBuiltIn,
  ctKey,
  ctModuleName,
  expectedRatio,
  explicitHashsize,
  fmtBytes,
  kubeProxyEvidence,
  partialSources,
  roundUp512,
  sampleRates,
  sizingEra,
} from "../src/engine/lib/conntrack-sizing.js";
import type { Analyzer, DetectedFinding, Evidence, Facts, Severity } from "../src/engine/types.js";
import { atLeast } from "../src/parsers/kernel-version.js";

export const analyzer: Analyzer = {
  meta: {
    id: "conntrack-hash-undersized",
    title: "Conntrack hash table too small for nf_conntrack_max",
    category: "conntrack",
    defaultSeverity: "medium",
    docs: {
      description:
        "nf_conntrack_max is many times the number of hash buckets (usually because max was raised and buckets/hashsize were left alone). Lookups walk long chains for every packet, and on kernels 5.15+ an insert into a chain that grew too long is refused and the packet dropped (`chaintoolong`).",
      mechanism:
        "Each entry is hashed twice (original and reply direction) into nf_conntrack_buckets chains; the kernel's own ratio max:buckets is 1 on 5.15+ (average chain 2), 4 before (chain 8), 8 when hashsize is given as a module parameter. Raising nf_conntrack_max does not resize the hash. Since 5.15 an insert is refused when a chain exceeds a random limit (8 + rand(24) in 5.15, 50 + rand(30) in 6.x): counter `chaintoolong` (chainlength column in /proc/net/stat/nf_conntrack).",
      signals: [
        "nf_conntrack_max, nf_conntrack_count and nf_conntrack_buckets (sysctl -a) or the hashsize module parameter",
        "`chaintoolong` (conntrack -S, 5.15+) / `chainlength` (/proc/net/stat/nf_conntrack), `search_restart`",
        "modprobe.d `options nf_conntrack hashsize=N`; kube-proxy chains (KUBE-*): kube-proxy sets 4:1",
      ],
      references: ["https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html", "https://git.kernel.org/torvalds/c/d7e7747ac5c2"],
    },
    explains: ["conntrack-table-full"],
  },

  detect(facts: Facts): DetectedFinding[] {
    const ct = facts.conntrack;
    const bucketsV = ct.buckets ?? ct.hashsizeParam;
    const max = ct.max?.value;
    if (!bucketsV || !max || bucketsV.value <= 0) return [];
    const buckets = bucketsV.value;
    const count = ct.count?.value;
    const k = facts.kernel?.value;
    const exp = expectedRatio(facts);
    const kube = kubeProxyEvidence(facts);
    const maxRatio = max / buckets;
    const countRatio = count !== undefined ? count / buckets : undefined;
    const totals = facts.conntrackCounters?.totals ?? {};
    const chaintoolong = totals.chaintoolong ?? totals.chainlength ?? 0;
    const searchRestart = totals.search_restart ?? 0;
    const rates = sampleRates(facts);

    // "≫ the default": at least twice the expected ratio, and either the table is really loaded
    // or the configuration allows ≥ 16 per bucket, or the kernel refused inserts.
    const configured = maxRatio >= 2 * exp.ratio && maxRatio > 2;
    // In use at twice the kernel's design ratio or more (5.15+: ≥ 2 per bucket; before: ≥ 8).
    const loaded = countRatio !== undefined && countRatio >= Math.max(2, 2 * exp.ratio);
    if (!(chaintoolong > 0 || (configured && (loaded || maxRatio >= 16)))) return [];

    let severity: Severity = chaintoolong > 0 ? "high" : loaded ? "medium" : "low";
    if (kube && chaintoolong === 0) severity = severity === "medium" ? "low" : severity === "low" ? "info" : severity;

    const evidence: Evidence[] = [
      { ...ct.max!.evidence, note: `nf_conntrack_max: ${maxRatio.toFixed(1)} × the buckets` },
      { ...bucketsV.evidence, note: `${buckets} hash buckets` },
    ];
    if (ct.count) evidence.push({ ...ct.count.evidence, note: `${count} entries = ${countRatio?.toFixed(1)} per bucket (each entry is hashed twice: average chain ${((2 * (count ?? 0)) / buckets).toFixed(1)})` });
    const hs = explicitHashsize(facts);
    if (hs) evidence.push({ ...hs.evidence, note: "hashsize set in modprobe.d" });
    if (kube) evidence.push(kube);
    const counters = facts.conntrackCounters;
    if (counters && chaintoolong > 0) {
      const hdr = counters.evidence.find((e) => e.note === "column names");
      if (hdr) evidence.push({ ...hdr, note: "chainlength column = chaintoolong" });
      const rows = counters.evidence.filter((e) => e.note !== "column names");
      for (const e of rows.slice(0, 4)) {
        const hi = /chaintoolong=\d+/.exec(e.text)?.[0];
        evidence.push({ ...e, ...(hi ? { highlight: hi } : {}), note: `${e.note ? `${e.note}: ` : ""}inserts refused because a chain was too long` });
      }
    }
    // hash-undersized fires only on a wide ratio; a CPU-cost finding without drops stays below table-full.
    const conf = new Confidence(chaintoolong > 0 ? 0.7 : 0.55, chaintoolong > 0 ? `chaintoolong=${chaintoolong}: inserts refused` : `nf_conntrack_max is ${maxRatio.toFixed(1)} × buckets (expected ${exp.ratio})`);
    if (loaded) conf.add(0.2, `${countRatio?.toFixed(1)} entries per bucket in use now`);
    if (searchRestart > 0) conf.add(0.05, `search_restart=${searchRestart}: lookups restarted while chains changed`);
    if (kube) conf.add(-0.1, "kube-proxy node: 4:1 is its intended ratio");
    for (const p of partialSources(facts, ["sysctl", counters?.sourceId ?? "conntrack-stats"])) conf.add(-0.1, `source incomplete: ${p}`);

    // Target: the kernel's own ratio on this version (kube-proxy: 4).
    const targetRatio = kube ? 4 : sizingEra(k) === "5.15+" ? 1 : 4;
    const newBuckets = roundUp512(Math.max(buckets, Math.ceil(max / targetRatio)));
    const mod = ctModuleName(facts);
    const commands = bucketsSysctlWritable(facts) && mod === "nf_conntrack" ? [`sysctl -w ${ctKey(facts, "buckets")}=${newBuckets}   # initial namespace only`] : [`echo ${newBuckets} > /sys/module/${mod}/parameters/hashsize   # ${k && !atLeast(k, "4.9") ? "nf_conntrack_buckets is read-only before 4.9; " : ""}initial namespace only`];
    const persist = conntrackBuiltIn(facts)
      ? [`# built-in ${mod}: add ${mod}.hashsize=${newBuckets} to the kernel command line`]
      : hs
        ? [`sed -i 's/hashsize=${hs.value}/hashsize=${newBuckets}/' ${/\/etc\/modprobe\.d\/[^/]+$/.exec(hs.evidence.path)?.[0] ?? `/etc/modprobe.d/${mod}.conf`}`]
        : [`echo 'options ${mod} hashsize=${newBuckets}' > /etc/modprobe.d/${mod}.conf`];
    if (kube) persist.push("kube-proxy only raises hashsize when it is below max/4: the modprobe.d value above survives its restarts");
    const memDelta = (newBuckets - buckets) * 8;

    const chainNote =
      k && atLeast(k, "5.15")
        ? `On this kernel (${k.raw}) a chain longer than a random limit (${atLeast(k, "6.0") ? "50 + rand(30)" : "8 + rand(24)"}) makes the insert fail and the packet drop (chaintoolong).`
        : `This kernel (${k?.raw ?? "unknown"}) has no chain-length guard: long chains cost CPU on every packet but do not drop.`;
    const summary = `nf_conntrack_max (${max}) is ${maxRatio.toFixed(1)} × the ${buckets} hash buckets; ${exp.reason.replace(/^./, (c) => c.toLowerCase())}, so the expected ratio is ${exp.ratio}.${count !== undefined ? ` ${count} entries are in use: ${countRatio?.toFixed(1)} per bucket, average chain ${((2 * count) / buckets).toFixed(1)}.` : ""}${chaintoolong > 0 ? ` ${chaintoolong} inserts were refused because a chain was too long (chaintoolong).` : ""}${kube ? " kube-proxy runs here and intends 4:1." : ""}`;
    return [
      {
        severity,
        ...conf.toFinding(),
        summary,
        mechanism: `Each entry sits in two hash chains (original and reply tuple); raising nf_conntrack_max never resizes the hash, so lookups walk ${((2 * max) / buckets).toFixed(0)}-long chains when the table fills. The kernel's ${ERA_LABEL[sizingEra(k)]} default keeps max:buckets at ${sizingEra(k) === "5.15+" ? "1" : sizingEra(k) === "ip_conntrack" ? "8" : "4"}. ${chainNote}`,
        evidence,
        ruledOutBy: [
          "A kube-proxy node at exactly 4:1 (its intended ratio) with no chaintoolong: cosmetic.",
          "A table that never fills: the ratio only matters with many entries (watch nf_conntrack_count under peak load).",
        ],
        metrics: {
          max,
          buckets,
          count: count ?? null,
          maxPerBucket: Math.round(maxRatio * 100) / 100,
          entriesPerBucket: countRatio !== undefined ? Math.round(countRatio * 100) / 100 : null,
          expectedRatio: exp.ratio,
          chaintoolong,
          searchRestart,
          chaintoolongPerSecond: rates?.chaintoolong !== undefined ? Math.round(rates.chaintoolong * 100) / 100 : null,
          recommendedBuckets: newBuckets,
          extraHashBytes: memDelta,
          kubeProxy: !!kube,
        },
        fixes: [
          {
            title: `Resize the conntrack hash to ${newBuckets} buckets`,
            rationale: `max ${max} / ${targetRatio} = ${Math.ceil(max / targetRatio)} rounded up to a multiple of 512 (${kube ? "kube-proxy's 4:1" : `the ${ERA_LABEL[sizingEra(k)]} kernel's ${targetRatio}:1`}). Costs ${fmtBytes(Math.max(0, memDelta))} more for the hash (8 B per bucket)${k && !atLeast(k, "4.7") ? ", per network namespace on this kernel (< 4.7)" : ""}.`,
            commands,
            persist,
            verify: [`cat /sys/module/${mod}/parameters/hashsize   # expect ${newBuckets}`, "conntrack -S | grep -o 'chaintoolong=[0-9]*'   # stops rising (5.15+)"],
            rollback: [`echo ${buckets} > /sys/module/${mod}/parameters/hashsize`],
            risk: "Resizing rehashes every entry once (a short CPU spike); no connection is lost.",
            cureLikelihood: chaintoolong > 0 ? 0.85 : 0.7,
          },
        ],
      },
    ];
  },
};
