/**
 * conntrack-near-capacity: no drops yet, but the table is filling (count/max ≥ 75 %), with the
 * growth rate between the collector's samples and the time left until it is full. Silent when
 * the table-full signals are present: conntrack-table-full covers that case.
 */
import { Confidence } from "../src/engine/confidence.js";
import {
  netnsCounts,
  partialSources,
  pct,
  raiseMaxFix,
  recommendSizing,
  recommendationMetrics,
  sampleEvidence,
  tableFullSignals,
  timeoutAdvice,
  timeoutFix,
} from "../src/engine/lib/conntrack-sizing.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const WARN_FILL = 0.75;
const HIGH_FILL = 0.9;

export const analyzer: Analyzer = {
  meta: {
    id: "conntrack-near-capacity",
    title: "Conntrack table nearly full",
    category: "conntrack",
    defaultSeverity: "medium",
    docs: {
      description:
        "The number of tracked connections is close to nf_conntrack_max but nothing was dropped yet. A burst, a scan or a slow leak of idle entries will make the kernel drop new connections.",
      mechanism:
        "Every tracked flow holds one entry until its state's timeout expires; the namespace's entry count is compared with the global nf_conntrack_max for every new flow. Once it is reached the kernel evicts unassured entries and then drops new flows (conntrack-table-full).",
      signals: [
        "nf_conntrack_count vs nf_conntrack_max (sysctl -a, /proc/sys/net/netfilter, per-namespace counts from the collector)",
        "the count in the collector's two samples: growth rate and time to full",
        "conntrack counters drop/early_drop = 0 and no `table full` line (otherwise conntrack-table-full reports it)",
      ],
      references: ["https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html"],
    },
    explains: [],
  },

  detect(facts: Facts): DetectedFinding[] {
    const s = tableFullSignals(facts);
    if (s.fired) return [];
    const ct = facts.conntrack;
    const max = ct.max?.value;
    if (!max) return [];
    // The fullest namespace: the initial one (sysctl) or a child the collector read.
    const ns = netnsCounts(facts).sort((a, b) => b.count - a.count)[0];
    const initCount = ct.count?.value;
    const useNs = ns !== undefined && (initCount === undefined || ns.count > initCount);
    const count = useNs ? ns.count : initCount;
    if (count === undefined) return [];
    const fill = count / max;
    if (fill < WARN_FILL) return [];

    const evidence: Evidence[] = [];
    if (useNs && ns) evidence.push(ns.evidence);
    else if (ct.count) evidence.push({ ...ct.count.evidence, note: `${pct(count, max)} of nf_conntrack_max` });
    if (ct.max) evidence.push({ ...ct.max.evidence, note: "nf_conntrack_max (global)" });
    const counters = facts.conntrackCounters;
    if (counters) evidence.push({ ...(counters.evidence.find((e) => !e.note?.startsWith("column")) ?? counters.evidence[0] ?? { source: counters.sourceId, path: counters.path, text: "" }), note: "drop=0 and early_drop=0: nothing dropped yet" });

    const r = s.rates;
    let secondsToFull: number | null = null;
    if (r && r.count !== undefined && !useNs) {
      evidence.push(...sampleEvidence(facts, r, "drop"));
      if (r.count > 0) secondsToFull = Math.round((max - count) / r.count);
    }

    const severity = fill >= HIGH_FILL ? "high" : "medium";
    const conf = new Confidence(0.75, `nf_conntrack_count ${count} of nf_conntrack_max ${max} (${pct(count, max)})`);
    if (counters) conf.add(0.1, "counters confirm no drops yet");
    if (r?.count !== undefined && r.count > 0) conf.add(0.05, `count grew ${r.count.toFixed(1)}/s between the samples`);
    if (r?.count !== undefined && r.count < 0) conf.add(-0.1, `count fell ${(-r.count).toFixed(1)}/s between the samples: the peak may be passing`);
    for (const p of partialSources(facts, ["sysctl", counters?.sourceId ?? "conntrack-stats"])) conf.add(-0.1, `source incomplete: ${p}`);

    const growth =
      r?.count !== undefined
        ? r.count > 0
          ? ` It grew by ${(r.countTo ?? 0) - (r.countFrom ?? 0)} entries in ${r.seconds} s (${r.count.toFixed(1)}/s): full in about ${fmtDuration(secondsToFull ?? 0)} at that rate.`
          : r.count < 0
            ? ` It fell by ${(r.countFrom ?? 0) - (r.countTo ?? 0)} entries in ${r.seconds} s.`
            : ` It did not change over the ${r.seconds} s between the collector's samples.`
        : "";
    const summary = `The conntrack table is ${pct(count, max)} full${useNs && ns ? ` in network namespace ${ns.netns}` : ""}: ${count} of nf_conntrack_max ${max} entries, no drops yet.${growth} At the limit new connections will be dropped.`;

    const rec = recommendSizing(facts, { peak: count, peakReason: `count ${count} now` });
    const fixes: DetectedFinding["fixes"] = [raiseMaxFix(facts, rec, { cureLikelihood: 0.7, why: `The table holds ${count} entries; headroom of 2× the current load.` })];
    const adv = timeoutAdvice(facts);
    if (adv) fixes.push(timeoutFix(facts, adv, { cureLikelihood: Math.min(0.6, 0.2 + adv.freed / max) }));

    return [
      {
        severity,
        ...conf.toFinding(),
        summary,
        mechanism:
          "Each flow keeps its entry until the timeout of its state expires (ESTABLISHED 432000 s by default). When the namespace's count reaches the global nf_conntrack_max the kernel first evicts unassured entries (early_drop) and then drops the first packet of new flows, logging `table full, dropping packet`.",
        evidence,
        ruledOutBy: [
          "A short-lived peak: a second reading of nf_conntrack_count minutes later far below the limit.",
          "Counters that already show drop/early_drop > 0 or a `table full` line: then it is conntrack-table-full.",
        ],
        metrics: {
          count,
          max,
          fill: Math.round(fill * 1000) / 1000,
          netns: useNs && ns ? ns.netns : null,
          growthPerSecond: r?.count !== undefined ? Math.round(r.count * 100) / 100 : null,
          secondsToFull,
          sampleSeconds: r?.seconds ?? null,
          ...recommendationMetrics(rec),
        },
        fixes,
      },
    ];
  },
};

function fmtDuration(sec: number): string {
  if (sec < 120) return `${sec} s`;
  if (sec < 7200) return `${Math.round(sec / 60)} min`;
  if (sec < 172800) return `${Math.round(sec / 3600)} h`;
  return `${Math.round(sec / 86400)} days`;
}
