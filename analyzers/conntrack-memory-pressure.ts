/**
 * conntrack-memory-pressure: conntrack entries could not be allocated (or the table is a large
 * share of RAM): page/slab allocation failures through nf_conntrack, drops while the table is
 * below its max, a huge nf_conntrack slab, low MemAvailable, OOM kills.
 */
import { Confidence } from "../src/engine/confidence.js";
import {
  entrySize,
  fmtBytes,
  partialSources,
  pct,
  sampleEvidence,
  sampleRates,
  tableFullSignals,
} from "../src/engine/lib/conntrack-sizing.js";
import type { Analyzer, DetectedFinding, Evidence, Facts, Severity } from "../src/engine/types.js";

const SLAB_SHARE = 0.1;
const LOW_AVAILABLE = 0.05;

export const analyzer: Analyzer = {
  meta: {
    id: "conntrack-memory-pressure",
    title: "Conntrack short of memory",
    category: "conntrack",
    defaultSeverity: "high",
    docs: {
      description:
        "Connection tracking could not allocate entries because the host is short of memory, or the conntrack slab itself has grown to a large share of RAM. Packets are dropped although nf_conntrack_count is below nf_conntrack_max.",
      mechanism:
        "A new entry is a slab allocation (kmem_cache_alloc from the nf_conntrack cache, GFP_ATOMIC in the packet path) plus extension memory. When it fails the packet is dropped and `drop` increments, silently (the old `Can't alloc conntrack` message is debug-only); a page-allocation-failure warning with nf_conntrack frames in the trace may be printed. A very large nf_conntrack_max lets the slab grow to hundreds of MB (~300 B per entry + 8 B per bucket).",
      signals: [
        "kernel log: `page allocation failure` / `vmalloc error` followed by a call trace through nf_conntrack / nf_ct_* functions; OOM-killer lines",
        "conntrack `drop` rising between the collector's samples while count < max",
        "/proc/meminfo MemAvailable vs MemTotal; /proc/slabinfo nf_conntrack cache size",
      ],
      references: ["https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html"],
    },
    explains: ["conntrack-table-full"],
  },

  detect(facts: Facts): DetectedFinding[] {
    const evidence: Evidence[] = [];
    const reasons: string[] = [];
    // 1. Allocation failures whose trace names conntrack (trace lines follow the failure line).
    const failures = facts.kernelEvents("alloc-failure");
    const traces = facts.kernelEvents("alloc-trace").filter((t) => /^_{0,2}nf_conntrack|^nf_ct_/.test(t.fields.symbol));
    const ctFailures = failures.filter((f) =>
      traces.some((t) => t.provenance.path === f.provenance.path && t.provenance.line > f.provenance.line && t.provenance.line - f.provenance.line <= 60),
    );
    for (const f of ctFailures.slice(0, 3)) evidence.push(facts.eventEvidence(f, /(?:page allocation failure|vmalloc[^,]*)/.exec(f.raw)?.[0], "memory allocation failed"));
    for (const t of traces.slice(0, 2)) evidence.push(facts.eventEvidence(t, t.fields.symbol, "the failed allocation came from conntrack"));
    if (ctFailures.length) reasons.push(`${ctFailures.length} allocation failure(s) with nf_conntrack in the call trace`);

    // 2. Drops while the table is below its max.
    const s = tableFullSignals(facts);
    const rates = sampleRates(facts);
    const belowMax = s.count !== undefined && s.max !== undefined && s.count < 0.9 * s.max;
    const dropRising = (rates?.drop ?? 0) > 0 && (rates?.insertFailed ?? 0) < (rates?.drop ?? 0);
    const dropsBelowMax = belowMax && dropRising && s.logTotal.total === 0;
    if (dropsBelowMax && rates) {
      evidence.push(...sampleEvidence(facts, rates, "drop"));
      reasons.push(`drop rising ${rates.drop?.toFixed(1)}/s while count ${s.count} < max ${s.max}`);
    }

    // 3. Memory state.
    const mem = facts.memTotalBytes;
    const avail = facts.memAvailableBytes;
    const lowAvail = mem && avail ? avail.value / mem.value < LOW_AVAILABLE : false;
    const slab = facts.first("slabinfo")?.value;
    const slabBytes = slab?.conntrackTotals.bytes ?? 0;
    const bigSlab = mem ? slabBytes / mem.value >= SLAB_SHARE : false;
    const ooms = facts.kernelEvents("oom-kill");
    const hard = ctFailures.length > 0 || dropsBelowMax || bigSlab;
    // Low memory or OOM alone is not a conntrack problem.
    if (!hard) return [];
    if (lowAvail && avail && mem) {
      evidence.push({ ...avail.evidence, note: `only ${pct(avail.value, mem.value)} of RAM available` });
      evidence.push(mem.evidence);
      reasons.push(`MemAvailable ${fmtBytes(avail.value)} (${pct(avail.value, mem.value)} of RAM)`);
    }
    if (bigSlab && mem) {
      const e = entrySize(facts);
      if (e.evidence) evidence.push(e.evidence);
      if (!lowAvail) evidence.push(mem.evidence);
      reasons.push(`nf_conntrack slab ${fmtBytes(slabBytes)} = ${pct(slabBytes, mem.value)} of RAM`);
    }
    if (ooms.length) {
      evidence.push(facts.eventEvidence(ooms[0]!, /(?:Killed process \d+|invoked oom-killer)/.exec(ooms[0]!.raw)?.[0], `${ooms.length} OOM-killer line(s)`));
      reasons.push(`${ooms.length} OOM-killer line(s)`);
    }

    const conf = new Confidence(ctFailures.length ? 0.7 : dropsBelowMax ? 0.45 : 0.5, reasons[0] ?? "");
    for (const r of reasons.slice(1)) conf.add(0.1, r);
    if (dropsBelowMax && !lowAvail && !ctFailures.length) conf.add(-0.1, "RAM looks sufficient: the drops may have another cause (insertion races, invalid packets)");
    for (const p of partialSources(facts, ["dmesg", "kernel-log", "meminfo", "slabinfo"])) conf.add(-0.1, `source incomplete: ${p}`);
    const severity: Severity = ctFailures.length || dropsBelowMax ? "high" : "medium";

    const k = facts.kernel?.value;
    const maxV = s.max;
    const e = entrySize(facts);
    const fitMax = mem ? Math.floor(((mem.value * 0.05) / (e.bytes + 8)) / 512) * 512 : undefined;
    const fixes: DetectedFinding["fixes"] = [
      {
        title: "Find and free what holds the memory",
        rationale: `Conntrack allocations fail when the kernel cannot find free pages: the fix is memory, not the conntrack limit.${bigSlab ? ` The nf_conntrack slab itself holds ${fmtBytes(slabBytes)}.` : ""}`,
        commands: ["grep -E 'MemAvailable|Slab|SUnreclaim' /proc/meminfo", "slabtop -o -s c | head -15", "ps -eo pid,rss,comm --sort=-rss | head"],
        persist: ["add RAM or move the heavy consumer off this host"],
        verify: ["grep MemAvailable /proc/meminfo   # well above 5 % of MemTotal", "conntrack -S | grep -o 'drop=[0-9]*'   # no longer rising"],
        rollback: [],
        risk: "None for diagnosis; stopping services has its own impact.",
        cureLikelihood: 0.6,
      },
    ];
    if (fitMax !== undefined && maxV !== undefined && maxV > fitMax) {
      fixes.push({
        title: `Lower nf_conntrack_max to ${fitMax} so a full table fits in 5 % of RAM`,
        rationale: `At ${maxV} entries × ${e.bytes} B the table can take ${fmtBytes(maxV * e.bytes)}${mem ? ` (${pct(maxV * e.bytes, mem.value)} of RAM)` : ""}. ${fitMax} entries × (${e.bytes} + 8) B stay under 5 %.`,
        commands: [`sysctl -w ${k && k.major === 2 ? "net.ipv4.netfilter.ip_conntrack_max" : "net.netfilter.nf_conntrack_max"}=${fitMax}`],
        persist: [`echo 'net.netfilter.nf_conntrack_max = ${fitMax}' >> /etc/sysctl.d/90-nfdiag-conntrack.conf`],
        verify: ["sysctl net.netfilter.nf_conntrack_max"],
        rollback: [`sysctl -w net.netfilter.nf_conntrack_max=${maxV}`],
        risk: "With a lower max, a traffic peak fills the table sooner (table-full drops instead of allocation failures).",
        cureLikelihood: 0.4,
      });
    }
    return [
      {
        severity,
        ...conf.toFinding(),
        summary: `Conntrack is short of memory: ${reasons.join("; ")}.`,
        mechanism:
          "Every new flow allocates an entry from the nf_conntrack slab in the packet path (atomic, no reclaim). When free memory runs out the allocation fails, the packet is dropped and `drop` increments without any `table full` line (nf_conntrack_count is below the max). A large nf_conntrack_max lets the slab grow to entries × object size (plus extensions), competing with everything else.",
        evidence,
        ruledOutBy: [
          "The allocation-failure trace runs through x_tables (xt_alloc_table_info) rather than nf_conntrack: that is ruleset-too-large.",
          "drop rising together with insert_failed: insertion races (conntrack-insert-race), not memory.",
        ],
        metrics: {
          allocFailures: ctFailures.length,
          oomKills: ooms.length,
          memAvailableShare: mem && avail ? Math.round((avail.value / mem.value) * 1000) / 1000 : null,
          conntrackSlabBytes: slabBytes,
          conntrackSlabShare: mem ? Math.round((slabBytes / mem.value) * 1000) / 1000 : null,
          dropsPerSecond: rates?.drop !== undefined ? Math.round(rates.drop * 100) / 100 : null,
          count: s.count ?? null,
          max: s.max ?? null,
          maxFittingFivePercent: fitMax ?? null,
        },
        ...(ctFailures[0]?.wallTime ? { firstSeen: ctFailures[0].wallTime } : {}),
        fixes,
      },
    ];
  },
};
