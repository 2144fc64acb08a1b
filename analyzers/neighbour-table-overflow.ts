/**
 * neighbour-table-overflow: the ARP (IPv4) or ND (IPv6) neighbour cache is full — same symptom
 * family as a full conntrack table (new destinations unreachable, "table overflow" in the kernel
 * log) but a different table: nothing to do with connection tracking. kernel-facts.md §1.10.
 */
import { Confidence } from "../src/engine/confidence.js";
import type { Analyzer, DetectedFinding, Evidence } from "../src/engine/types.js";

const ID = "neighbour-table-overflow";
/** Kernel defaults of gc_thresh1/2/3 (all versions). */
export const GC_DEFAULTS = [128, 512, 1024] as const;

interface Family {
  fam: "ipv4" | "ipv6";
  table: string;
  sysctlPrefix: string;
}
const FAMILIES: Family[] = [
  { fam: "ipv4", table: "arp_cache", sysctlPrefix: "net.ipv4.neigh.default" },
  { fam: "ipv6", table: "ndisc_cache", sysctlPrefix: "net.ipv6.neigh.default" },
];

/** New gc_thresh1/2/3: 4× the current values, never below the kernel defaults, kept strictly increasing. */
export function raisedThresholds(cur: (number | undefined)[], neighbours?: number): [number, number, number] {
  const c = [0, 1, 2].map((i) => cur[i] ?? GC_DEFAULTS[i]!);
  let t3 = Math.max(c[2]! * 4, GC_DEFAULTS[2], neighbours ? neighbours * 2 : 0);
  let t2 = Math.max(c[1]! * 4, GC_DEFAULTS[1], Math.floor(t3 / 2));
  let t1 = Math.max(c[0]! * 4, GC_DEFAULTS[0], Math.floor(t2 / 4));
  if (t2 >= t3) t2 = Math.floor(t3 / 2);
  if (t1 >= t2) t1 = Math.floor(t2 / 4);
  t3 = Math.max(t3, t2 + 1);
  return [t1, t2, t3];
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "Neighbour (ARP/ND) table overflow",
    category: "neighbour",
    defaultSeverity: "medium",
    docs: {
      description:
        "Finds `neighbor table overflow!` / `Neighbour table overflow.` in the kernel log (with rate-limited copies) and reads the gc_thresh1/2/3 limits of the ARP (IPv4) and ND (IPv6) neighbour caches. This is not a conntrack problem, even though it shows the same way (new destinations unreachable, an overflow message in dmesg).",
      mechanism:
        "The kernel keeps one neighbour entry (IP → MAC) per on-link destination; when the cache holds gc_thresh3 entries and garbage collection cannot free one, resolving a new neighbour fails, the packet is dropped and `neighbour: arp_cache: neighbor table overflow!` is printed (rate-limited). Large flat L2 networks, scans of a local subnet, or many containers on a bridge fill it.",
      signals: [
        "neigh-overflow: `neighbour: arp_cache: neighbor table overflow!` (4.4+), `ndisc_cache` for IPv6, `Neighbour table overflow.` / `ipv4: Neighbour table overflow.` (2.6/3.x)",
        "`net_ratelimit: N callbacks suppressed` attributed to it",
        "sysctl net.ipv4.neigh.default.gc_thresh1/2/3 and net.ipv6.neigh.default.gc_thresh1/2/3",
      ],
      references: ["kernel-facts.md §1.10", "kernel-facts.md §1.9 (net_ratelimit)"],
    },
    explains: [],
  },

  detect(facts) {
    const events = facts.kernelEvents("neigh-overflow");
    if (events.length === 0) return [];
    const total = facts.classTotal("neigh-overflow");
    const count = Math.max(total.total, events.length);
    const suppressed = total.suppressed;
    const byTable = new Map<string, number>();
    for (const e of events) {
      const t = e.fields.table && e.fields.table !== "ipv4" ? e.fields.table : "arp_cache";
      byTable.set(t, (byTable.get(t) ?? 0) + 1 + e.suppressed);
    }
    const fams = FAMILIES.filter((f) => byTable.has(f.table));
    if (fams.length === 0) fams.push(FAMILIES[0]!);

    const evidence: Evidence[] = [];
    const first = events[0]!;
    const last = events[events.length - 1]!;
    evidence.push(facts.eventEvidence(first, /neighbor table overflow/.test(first.text) ? "neighbor table overflow" : "Neighbour table overflow", `first of ${count} overflow message${count > 1 ? "s" : ""} (rate-limited copies included)`));
    if (last !== first) evidence.push(facts.eventEvidence(last, /neighbor table overflow/.test(last.text) ? "neighbor table overflow" : "Neighbour table overflow", "last overflow message"));
    const supp = facts.kernelEvents("ratelimit-summary").filter((s) => s.fields.func === "net_ratelimit" && events.some((e) => e.provenance.path === s.provenance.path && e.provenance.line - s.provenance.line >= 0 && e.provenance.line - s.provenance.line <= 2));
    for (const s of supp.slice(0, 1)) evidence.push(facts.eventEvidence(s, "callbacks suppressed", "rate-limited copies of the overflow message"));

    const metrics: DetectedFinding["metrics"] = { overflowMessages: events.length, suppressed, occurrences: count };
    const fixes: DetectedFinding["fixes"] = [];
    const thresholdsText: string[] = [];
    let lowered = false;
    for (const f of fams) {
      const vals = [1, 2, 3].map((i) => facts.sysctlNumber(`${f.sysctlPrefix}.gc_thresh${i}`));
      vals.forEach((v, i) => {
        metrics[`${f.fam}.gc_thresh${i + 1}`] = v?.value ?? null;
        if (v) evidence.push({ ...v.evidence, note: `${f.table} limit gc_thresh${i + 1}${i === 2 ? ": the hard maximum of entries" : i === 1 ? ": soft maximum (entries above it are collected after 5 s)" : ": below it no garbage collection"}` });
      });
      const cur = vals.map((v) => v?.value);
      if (cur[2] !== undefined && cur[2] < GC_DEFAULTS[2]) lowered = true;
      if (cur[2] !== undefined) thresholdsText.push(`${f.table} gc_thresh1/2/3 = ${cur.map((x) => x ?? "?").join("/")}`);
      const [t1, t2, t3] = raisedThresholds(cur);
      metrics[`${f.fam}.proposed`] = `${t1}/${t2}/${t3}`;
      const p = f.sysctlPrefix;
      fixes.push({
        title: `Raise the ${f.fam === "ipv4" ? "ARP" : "IPv6 ND"} cache limits to ${t1}/${t2}/${t3}`,
        rationale: `${f.table} overflowed ${byTable.get(f.table) ?? count} time(s)${cur[2] !== undefined ? ` with gc_thresh3 = ${cur[2]}` : ""}. The new values are 4× the current ones (at least the kernel defaults 128/512/1024), keeping gc_thresh1 < gc_thresh2 < gc_thresh3; each entry costs a few hundred bytes, so ${t3} entries are well under a megabyte.`,
        commands: [`sysctl -w ${p}.gc_thresh1=${t1} ${p}.gc_thresh2=${t2} ${p}.gc_thresh3=${t3}`, `ip -s neigh show | wc -l   # how many neighbours exist now`],
        persist: [`printf '${p}.gc_thresh1 = ${t1}\\n${p}.gc_thresh2 = ${t2}\\n${p}.gc_thresh3 = ${t3}\\n' > /etc/sysctl.d/90-neighbour.conf`, "sysctl --system"],
        verify: [`sysctl ${p}.gc_thresh1 ${p}.gc_thresh2 ${p}.gc_thresh3`, `dmesg | grep -c '${f.table}: neighbor table overflow'   # no new lines`],
        rollback: [`sysctl -w ${p}.gc_thresh1=${cur[0] ?? GC_DEFAULTS[0]} ${p}.gc_thresh2=${cur[1] ?? GC_DEFAULTS[1]} ${p}.gc_thresh3=${cur[2] ?? GC_DEFAULTS[2]}`, "rm /etc/sysctl.d/90-neighbour.conf"],
        risk: "low: only the neighbour cache grows; if the neighbours come from a scan or a flat /16, also find why so many on-link addresses are contacted.",
        cureLikelihood: 0.85,
      });
    }

    const conf = new Confidence(0.7, "the kernel printed the neighbour-table overflow message");
    if (count >= 10) conf.add(0.1, `${count} occurrences, not a one-off`);
    if (thresholdsText.length) conf.add(0.1, "the gc_thresh limits are in the bundle");
    if (lowered) conf.add(0.05, "gc_thresh3 is below the kernel default");
    // net_ratelimit's summary is shared by every net_*_ratelimited message: with conntrack
    // "table full" lines in the same log the suppressed count is an upper bound, so only logged lines decide.
    const shared = facts.kernelEvents("ct-table-full").length > 0 || facts.kernelEvents("ct-expect-full").length > 0;
    const severity: DetectedFinding["severity"] = (shared ? events.length : count) >= 100 ? "high" : "medium";
    if (shared && suppressed) conf.add(-0.05, "the rate-limit summary is shared with conntrack messages: the suppressed count is an upper bound");
    const times = events.map((e) => e.wallTime).filter((t): t is string => !!t).sort();
    const tables = fams.map((f) => `${f.table} (${f.fam === "ipv4" ? "ARP, IPv4" : "neighbour discovery, IPv6"})`).join(" and ");

    return [
      {
        severity,
        ...conf.toFinding(),
        summary: `The neighbour cache ${tables} overflowed ${shared && suppressed ? `${events.length} logged time${events.length > 1 ? "s" : ""} (up to ${count} with rate-limited copies, shared with the conntrack messages)` : `${count} time${count > 1 ? "s" : ""}${suppressed ? ` (${suppressed} of them rate-limited)` : ""}`}${thresholdsText.length ? `; ${thresholdsText.join(", ")}` : ""}${lowered ? " — below the kernel defaults 128/512/1024" : ""}. This is the ARP/ND neighbour table, not the conntrack table: new on-link destinations cannot be resolved, connection tracking is not involved.`,
        mechanism:
          "Each on-link IP address the host talks to needs a neighbour entry (IPv4: ARP cache `arp_cache`; IPv6: neighbour discovery `ndisc_cache`). Garbage collection starts above gc_thresh1, entries above gc_thresh2 are reclaimed after 5 s, and gc_thresh3 is the hard limit: when the table is at gc_thresh3 and nothing can be reclaimed, neigh_create fails, the packet to the new neighbour is dropped and the kernel prints `neighbour: arp_cache: neighbor table overflow!` through net_info_ratelimited (hence `net_ratelimit: N callbacks suppressed`). This is separate from nf_conntrack: raising nf_conntrack_max does nothing for it, and a full conntrack table prints `nf_conntrack: table full, dropping packet` instead.",
        evidence,
        ruledOutBy: ["the overflows happened during a one-off subnet scan that has stopped", "the messages predate a change of gc_thresh* already applied (compare their times with the sysctl.d files)"],
        metrics,
        ...(times[0] ? { firstSeen: times[0] } : {}),
        ...(times.length ? { lastSeen: times[times.length - 1]! } : {}),
        fixes,
      },
    ];
  },
};
