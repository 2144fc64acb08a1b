/**
 * conntrack-table-full: new flows were dropped because the conntrack table reached
 * nf_conntrack_max. The symptom itself: causes (conntrack loaded by accident, long timeouts, a
 * hash too small, memory) are other analyzers that list this id in `explains`.
 */
import { Confidence } from "../src/engine/confidence.js";
import {
  FULL_FILL,
  ctKey,
  notrackFix,
  partialSources,
  persistentSettings,
  pct,
  raiseMaxFix,
  recommendSizing,
  recommendationMetrics,
  sampleEvidence,
  tableFullSignals,
  timeoutAdvice,
  timeoutFix,
} from "../src/engine/lib/conntrack-sizing.js";
import { liveRules, hasLiveRuleSource } from "../src/engine/lib/rulesets.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";
import { atLeast } from "../src/parsers/kernel-version.js";

const MESSAGE = /(?:(?:ip|nf)_conntrack: )*(?:VPS \d+ )?table full(?: in netns \d+)?, dropping(?: packet\.?)?/;

export const analyzer: Analyzer = {
  meta: {
    id: "conntrack-table-full",
    title: "Conntrack table full: new connections dropped",
    category: "conntrack",
    defaultSeverity: "critical",
    docs: {
      description:
        "The connection-tracking table reached nf_conntrack_max. Each new flow whose first packet finds no free slot (after the kernel failed to evict an unconfirmed, non-ASSURED entry) is dropped: new connections time out while established ones keep working.",
      mechanism:
        "__nf_conntrack_alloc() compares the namespace's entry count with the global nf_conntrack_max; when full it calls early_drop() on up to 8 hash buckets to evict a non-ASSURED entry, and only if that fails drops the packet, counts `drop` and prints `table full, dropping packet` (rate-limited: `net_ratelimit: N callbacks suppressed`). The text changed with the kernel: `ip_conntrack: … packet.` (≤ 2.6.2x), `nf_conntrack: table full, dropping packet.` (≤ 3.4), without the period (3.10–4.6), with a doubled `nf_conntrack: nf_conntrack:` prefix (4.7+), and `table full in netns <inode>` for non-initial namespaces (6.17+). The max is global but the count is per namespace.",
      signals: [
        "kernel log (dmesg, kern.log/messages, journal): every form of `table full, dropping packet`, including `in netns N` and OpenVZ `VPS N`; `N callbacks suppressed` adds hidden copies",
        "conntrack counters (`conntrack -S`, /proc/net/stat/nf_conntrack): `drop`, `early_drop` (summed over CPUs; `entries` is not summed)",
        "nf_conntrack_count vs nf_conntrack_max (sysctl -a / /proc/sys), per-namespace counts from the collector",
        "collector samples taken seconds apart: drops/s and inserts/s",
        "conntrack table dump (composition, for the timeout and NOTRACK fixes)",
      ],
      references: [
        "https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html",
        "https://git.kernel.org/pub/scm/linux/kernel/git/torvalds/linux.git/tree/net/netfilter/nf_conntrack_core.c",
      ],
    },
    explains: [],
  },

  detect(facts: Facts): DetectedFinding[] {
    const s = tableFullSignals(facts);
    const k = facts.kernel?.value;
    const kernelLogPresent = facts.has("dmesg") || facts.has("kernel-log") || facts.has("journal");
    const full = (s.fill ?? 0) >= FULL_FILL || s.fullNetns.length > 0;
    // Without counters and logs a full table is still a strong sign (every new flow is refused).
    const inferred = !s.fired && full && !s.countersPresent && !kernelLogPresent;
    if (!s.fired && !inferred) return [];

    const evidence: Evidence[] = [];
    const hl = (text: string): string | undefined => MESSAGE.exec(text)?.[0];
    const first = s.events[0];
    const last = s.events[s.events.length - 1];
    if (first) evidence.push(facts.eventEvidence(first, hl(first.raw), `first "table full" message${first.wallTime ? ` (${first.wallTime}, ${first.timeQuality} time)` : ""}`));
    for (const ns of s.netnsIds.slice(0, 5)) {
      const e = s.events.find((m) => m.fields.netns === ns);
      if (e && e !== first) evidence.push(facts.eventEvidence(e, hl(e.raw), `table full in network namespace inode ${ns} (a child namespace: container or pod)`));
    }
    const withSuppressed = s.events.find((m) => m.suppressed > 0);
    if (withSuppressed) {
      // The parser credits a summary to the message printed just before it (the burst it cut short).
      const sameFile = facts.kernelEvents("ratelimit-summary").filter((m) => m.provenance.path === withSuppressed.provenance.path);
      const summary =
        sameFile.find((m) => m.provenance.line > withSuppressed.provenance.line) ??
        sameFile.filter((m) => m.provenance.line < withSuppressed.provenance.line).pop();
      if (summary) evidence.push(facts.eventEvidence(summary, summary.text.match(/\d+ (?:callbacks|messages) suppressed/)?.[0], `rate limiting hid ${summary.fields.suppressed} more copies; they are added to the count`));
    }
    if (last && last !== first) evidence.push(facts.eventEvidence(last, hl(last.raw), `last "table full" message${last.wallTime ? ` (${last.wallTime})` : ""}`));

    const counters = facts.conntrackCounters;
    if (counters && (s.drop > 0 || s.earlyDrop > 0)) {
      const rows = counters.evidence.filter((e) => !e.note?.startsWith("column"));
      const header = counters.evidence.find((e) => e.note === "column names");
      if (header) evidence.push(header);
      const proc = counters.sourceId === "proc-stat-nf_conntrack";
      const p = facts.first("proc-stat-nf_conntrack")?.value;
      const cli = facts.first("conntrack-stats")?.value;
      rows.forEach((e, i) => {
        const c = proc ? p?.rows[i]?.counters : cli?.cpus.filter((r) => r.kind === "conntrack")[i]?.counters;
        const d = c?.drop ?? 0;
        const ed = c?.early_drop ?? 0;
        if (d === 0 && ed === 0) return;
        const hi = !proc ? (d > 0 ? `drop=${d}` : `early_drop=${ed}`) : undefined;
        evidence.push({ ...e, ...(hi && e.text.includes(hi) ? { highlight: hi } : {}), note: `${e.note ? `${e.note}: ` : ""}drop=${d}, early_drop=${ed} on this CPU` });
      });
    }
    const ct = facts.conntrack;
    if (ct.count) evidence.push({ ...ct.count.evidence, note: `entries now${s.fill !== undefined ? ` (${pct(s.count ?? 0, s.max ?? 0)} of max)` : ""}` });
    if (ct.max) evidence.push({ ...ct.max.evidence, note: "nf_conntrack_max (global, all namespaces)" });
    for (const n of s.fullNetns.slice(0, 5)) evidence.push({ ...n.evidence, note: `${n.evidence.note ?? ""}: its own count reached the global max ${s.max ?? ""}`.trim() });
    for (const n of s.netnsStats.slice(0, 5)) evidence.push(n.evidence);
    for (const p of persistentSettings(facts, "net.netfilter.nf_conntrack_max")) evidence.push({ ...p.evidence, highlight: p.value, note: `nf_conntrack_max set to ${p.value} at boot by ${p.file}` });
    if (s.rates && (s.rates.drop ?? 0) > 0) evidence.push(...sampleEvidence(facts, s.rates, "drop"));

    // Severity: critical when drops are happening now; high for a past episode or evictions only.
    const dropsSeen = s.drop > 0 || s.logTotal.total > 0;
    const severity = s.activeNow && dropsSeen ? "critical" : "high";

    const conf = s.logTotal.total > 0
      ? new Confidence(0.6, `${s.logTotal.total} "table full" occurrence(s) in the kernel log`)
      : s.earlyDrop > 0 || s.drop > 0
        ? new Confidence(0.5, `conntrack counters: drop=${s.drop}, early_drop=${s.earlyDrop}`)
        : new Confidence(0.35, `count ${s.count} at ${pct(s.count ?? 0, s.max ?? 0)} of max; no counters or kernel log to show drops`);
    if (s.logTotal.total > 0 && s.drop > 0) conf.add(0.2, `drop counter agrees (drop=${s.drop})`);
    if (s.logTotal.total > 0 && s.countersPresent && s.drop === 0 && s.earlyDrop === 0) conf.add(-0.1, "counters show no drops (reset since, or another boot's log)");
    if (full) conf.add(0.15, `table at ${pct(s.count ?? 0, s.max ?? 0)} of nf_conntrack_max${s.fullNetns.length ? ` (namespace ${s.fullNetns.map((n) => n.netns).join(", ")})` : ""}`);
    if ((s.rates?.drop ?? 0) > 0) conf.add(0.1, `drops rising between the collector's samples (${s.rates?.drop?.toFixed(1)}/s)`);
    const partial = partialSources(facts, ["dmesg", "kernel-log", "journal", counters?.sourceId ?? "conntrack-stats"]);
    for (const p of partial) conf.add(-0.1, `source incomplete: ${p}`);
    if (!s.logTotal.total && kernelLogPresent === false) conf.add(-0.05, "no kernel log in the bundle");

    // Summary.
    const where = s.netnsIds.length
      ? ` in network namespace${s.netnsIds.length > 1 ? "s" : ""} ${s.netnsIds.join(", ")} (child namespaces: containers or pods; each reached the global max with its own count)`
      : s.vpsIds.length
        ? ` in OpenVZ container${s.vpsIds.length > 1 ? "s" : ""} ${s.vpsIds.join(", ")}`
        : s.fullNetns.length
          ? ` in network namespace${s.fullNetns.length > 1 ? "s" : ""} ${s.fullNetns.map((n) => n.netns).join(", ")} (a child namespace counts its own entries against the global nf_conntrack_max)`
          : "";
    const parts: string[] = [];
    if (s.logTotal.total > 0)
      parts.push(`the kernel logged "table full, dropping packet" ${s.logTotal.total} times${s.logTotal.suppressed ? ` (${s.logTotal.count} lines + ${s.logTotal.suppressed} hidden by rate limiting)` : ""}${first?.wallTime && last?.wallTime ? (first.wallTime === last.wallTime ? ` at ${first.wallTime}` : ` between ${first.wallTime} and ${last.wallTime}`) : ""}`);
    if (s.countersPresent) parts.push(`conntrack counters show drop=${s.drop}${s.earlyDrop ? `, early_drop=${s.earlyDrop} (entries evicted to make room)` : ""}`);
    if (s.rates && s.rates.drop !== undefined) parts.push(`${s.rates.drop.toFixed(1)} drops/s over the ${s.rates.seconds} s between the collector's samples${s.rates.drop === 0 ? " (none at collection time)" : ""}`);
    const sharedLimit = s.countersPresent && s.logTotal.suppressed > 0 && s.logTotal.total > s.drop + s.earlyDrop;
    const nsFill = s.fullNetns.length && s.max !== undefined ? ` Count now: ${s.fullNetns.map((n) => `${n.count} in ${n.netns}`).join(", ")} of nf_conntrack_max ${s.max}${s.count !== undefined ? `; the initial namespace holds ${s.count}` : ""}.` : undefined;
    const fillText = nsFill ?? (s.count !== undefined && s.max !== undefined ? ` Count now: ${s.count} of nf_conntrack_max ${s.max} (${pct(s.count, s.max)}).` : "");
    const summary = `New connections were dropped${where}: the conntrack table was full. ${parts.length ? `${capitalise(parts.join("; "))}.` : ""}${fillText}${s.logTotal.total > 0 && s.drop > s.logTotal.total ? ` The counters (${s.drop}) exceed the logged lines: count drops from the counters.` : ""}`;

    // Mechanism, specific to this kernel.
    const m: string[] = [];
    m.push(
      "When a new flow's first packet needs an entry and the namespace's count has reached the global nf_conntrack_max, the kernel tries to evict a non-ASSURED entry from up to 8 hash buckets (early_drop); if none is found the packet is dropped and `drop` increments. Established flows keep working; new connections time out and retry.",
    );
    if (k) {
      const ver = k.raw;
      if (!atLeast(k, "4.10"))
        m.push(`On this kernel (${ver}, ≤ 4.9) loading nf_conntrack_ipv4/ipv6 registers the conntrack hooks globally: every packet in every namespace is tracked once the module is loaded, whether or not a rule needs it.`);
      else m.push(`On this kernel (${ver}, ≥ 4.10) only namespaces whose rules need conntrack (state/ctstate, NAT, CT, nft ct …) track packets; each such namespace counts its own entries against the one global nf_conntrack_max.`);
      if (atLeast(k, "6.17")) m.push("From 6.17 the message names the namespace: `table full in netns <inode>` for any namespace other than the initial one; a plain `table full, dropping packet` is the initial namespace.");
      else m.push("Before 6.17 the message does not say which namespace was full.");
      if (!atLeast(k, "4.7")) m.push("Before 4.7 each namespace also has its own hash table and slab cache.");
    }
    if (s.earlyDrop > 0) m.push(`early_drop=${s.earlyDrop}: entries were evicted to make room, so unreplied/unassured flows were being lost even when the packet was not dropped.`);
    if (s.insertFailed > 0 && s.insertFailed >= s.drop) m.push(`insert_failed=${s.insertFailed} ≥ drop: part of the drops may be insertion races rather than a full table (see conntrack-insert-race).`);

    if (sharedLimit) m.push(`The ${s.logTotal.suppressed} suppressed copies are an upper bound: \`net_ratelimit: N callbacks suppressed\` counts every net_ratelimit() user (neighbour overflow, other warnings), not only conntrack; the counters (${s.drop}) are the reliable figure.`);
    // Fixes.
    const peak = Math.max(s.count ?? 0, s.max ?? 0, ...s.fullNetns.map((n) => n.count));
    const rec = recommendSizing(facts, { peak, peakReason: `the table was full at nf_conntrack_max ${s.max ?? "?"}` });
    const fixes: DetectedFinding["fixes"] = [];
    fixes.push(raiseMaxFix(facts, rec, { cureLikelihood: rec.ramLimited ? 0.55 : 0.8, why: `The table overflowed at ${s.max ?? "its limit"}; demand is at least that.` }));
    const adv = timeoutAdvice(facts);
    if (adv) fixes.push(timeoutFix(facts, adv, { cureLikelihood: Math.min(0.7, 0.3 + adv.freed / Math.max(1, s.max ?? adv.entries)) }));
    const nt = notrackFix(facts, { cureLikelihood: 0.5, why: "Stateless, high-volume traffic does not need tracking." });
    if (nt) fixes.push(nt);
    if (hasLiveRuleSource(facts) && !liveRules(facts).some((r) => r.needsConntrack)) {
      fixes.push({
        title: "Unload nf_conntrack: no rule needs it",
        rationale: "No live rule uses state/ctstate, NAT, CT or nft ct: conntrack is tracking by accident (see conntrack-loaded-unused for the trigger and the exact unload order).",
        commands: ["modprobe -r iptable_nat nf_nat xt_conntrack nf_conntrack   # after removing any empty nat table: iptables -t nat -F; iptables -t nat -X"],
        persist: ["echo 'install nf_conntrack /bin/false' > /etc/modprobe.d/nfdiag-no-conntrack.conf   # breaks docker, kube-proxy and NAT if they are ever needed"],
        verify: ["grep -c '^nf_conntrack ' /proc/modules   # expect 0"],
        rollback: ["rm -f /etc/modprobe.d/nfdiag-no-conntrack.conf", "modprobe nf_conntrack"],
        risk: "Anything that needs NAT or stateful rules (docker, kube-proxy, libvirt) stops working.",
        cureLikelihood: 0.9,
      });
    }

    const firstSeen = first?.wallTime;
    const lastSeen = last?.wallTime;
    const metrics: DetectedFinding["metrics"] = {
      count: s.count ?? null,
      max: s.max ?? null,
      fill: s.fill !== undefined ? Math.round(s.fill * 1000) / 1000 : null,
      logLines: s.logTotal.count,
      logSuppressed: s.logTotal.suppressed,
      logTotal: s.logTotal.total,
      drop: s.drop,
      earlyDrop: s.earlyDrop,
      insertFailed: s.insertFailed,
      dropsPerSecond: s.rates?.drop !== undefined ? round2(s.rates.drop) : null,
      earlyDropsPerSecond: s.rates?.earlyDrop !== undefined ? round2(s.rates.earlyDrop) : null,
      insertsPerSecond: s.rates?.insert !== undefined ? round2(s.rates.insert) : null,
      sampleSeconds: s.rates?.seconds ?? null,
      netnsFull: s.netnsIds.length ? s.netnsIds.join(",") : s.fullNetns.length ? s.fullNetns.map((n) => n.netns).join(",") : null,
      activeNow: s.activeNow,
      ...recommendationMetrics(rec),
    };
    return [
      {
        severity,
        ...conf.toFinding(),
        summary,
        mechanism: m.join(" "),
        evidence,
        ruledOutBy: [
          "The messages belong to an earlier boot or an old episode: nf_conntrack_count well below nf_conntrack_max and the drop counter not rising over a minute (`conntrack -S`, or two reads of /proc/net/stat/nf_conntrack).",
          "The drops are insertion-race losses (insert_failed rising with drop, count far below max): then see conntrack-insert-race, not capacity.",
          `Raising ${ctKey(facts, "max")} has no effect inside a child namespace: it is global and writable only from the initial namespace.`,
        ],
        metrics,
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
        fixes,
      },
    ];
  },
};

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
