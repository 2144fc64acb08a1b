/**
 * conntrack-timeouts-long: the table is (nearly) full and one state dominates it with entries
 * that outlive their use: idle ESTABLISHED entries under a 5-day timeout, TIME_WAIT-heavy tables,
 * or a timeout raised above the kernel default (UDP, CLOSE_WAIT …). Reads the table dump.
 */
import { Confidence } from "../src/engine/confidence.js";
import { notrackFix, partialSources, pct, tableFullSignals, teardownDropRules, timeoutAdvice, timeoutFix } from "../src/engine/lib/conntrack-sizing.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const MIN_FILL = 0.5;
/** With a teardown-dropping rule the entries are certainly dead: a quarter of the table is worth a finding. */
const DEAD_MIN_FILL = 0.25;

export const analyzer: Analyzer = {
  meta: {
    id: "conntrack-timeouts-long",
    title: "Conntrack entries outlive their use (timeouts too long for the traffic)",
    category: "conntrack",
    defaultSeverity: "medium",
    docs: {
      description:
        "A full or nearly full conntrack table dominated by one kind of entry that a shorter timeout would free: idle ESTABLISHED connections kept for 5 days, TIME_WAIT or CLOSE_WAIT piles, UDP flows under a raised timeout. Names the top talkers and the timeout to lower.",
      mechanism:
        "An entry lives until the timeout of its current state expires, refreshed by each packet: ESTABLISHED 432000 s (5 days) by default, TIME_WAIT 120 s, UDP 30 s unreplied / 120 s (180 s up to 4.19) replied. Connections that vanish without FIN/RST (NAT timeouts upstream, crashed peers, idle pools) keep their ESTABLISHED entry for days; many short connections leave TIME_WAIT entries for 2 minutes each.",
      signals: [
        "conntrack table dump (/proc/net/nf_conntrack or conntrack -L): share by TCP state, protocol, flags (UNREPLIED, ASSURED), destination port, sources and destinations; remaining-timeout histogram (entries idle > 1 h)",
        "timeout sysctls net.netfilter.nf_conntrack_*_timeout* (sysctl -a)",
        "fill (count/max ≥ 50 %) or the table-full signals",
      ],
      references: ["https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html"],
    },
    explains: ["conntrack-table-full", "conntrack-near-capacity"],
  },

  detect(facts: Facts): DetectedFinding[] {
    const tableSrc = facts.first("conntrack-table");
    const t = tableSrc?.value;
    if (!tableSrc || !t || t.entries === 0) return [];
    const s = tableFullSignals(facts);
    const fill = s.fill ?? (s.max ? t.entries / s.max : undefined);
    // A rule dropping FIN/RST before conntrack: entries of closed connections stay ESTABLISHED.
    const teardown = teardownDropRules(facts);
    const est = t.byTcpState.items.find((i) => i.key === "ESTABLISHED")?.count ?? 0;
    const dead = teardown.length > 0 && est >= 0.5 * t.entries && est >= 100;
    const minFill = dead ? DEAD_MIN_FILL : MIN_FILL;
    if (!s.fired && (fill === undefined || fill < minFill)) return [];
    const a = timeoutAdvice(facts, dead ? { deadEstablished: "A rule drops TCP FIN/RST before conntrack sees them, so closed connections never leave ESTABLISHED" } : {});
    if (!a) return [];
    // Only "too long" when the entries are idle, the value was raised, or closed connections pile up.
    const closing = ["TIME_WAIT", "CLOSE_WAIT", "FIN_WAIT", "LAST_ACK"].includes(a.what);
    if (!(dead || a.idle !== undefined || a.raised || (closing && a.share >= 0.5))) return [];

    const evidence: Evidence[] = [];
    for (const d of teardown.slice(0, 3)) evidence.push(d.evidence);
    const sampleKey = a.what === "idle ESTABLISHED" ? "ESTABLISHED" : a.what === "UNREPLIED udp" || a.what === "UDP streams" ? "udp" : a.what;
    const sample = t.samples[sampleKey]?.[0];
    const highlight = a.what === "UNREPLIED udp" ? "[UNREPLIED]" : sampleKey;
    if (sample) evidence.push(facts.evidence("conntrack-table", sample.provenance, sample.text, { ...(sample.text.includes(highlight) ? { highlight } : {}), note: `one of ${a.entries} ${a.what} entries (${pct(a.entries, t.entries)} of the ${t.entries} in the dump)` }));
    else evidence.push({ source: "conntrack-table", path: tableSrc.path, text: `${a.entries} ${a.what} entries of ${t.entries}`, note: "aggregated from the table dump" });
    if (a.currentEvidence) evidence.push({ ...a.currentEvidence, note: `current timeout${a.kernelDefault !== undefined ? ` (kernel default ${a.kernelDefault} s)` : ""}` });
    if (facts.conntrack.max) evidence.push({ ...facts.conntrack.max.evidence, note: `table ${fill !== undefined ? pct(fill, 1) : "?"} full` });
    const talkers = (label: string, items: { key: string; count: number }[]): string =>
      items.length ? `${label} ${items.slice(0, 3).map((i) => `${i.key} (${i.count})`).join(", ")}` : "";
    const top = [talkers("sources", t.topSources.items), talkers("destinations", t.topDestinations.items), talkers("destination ports", t.byDestinationPort.items)].filter(Boolean).join("; ");
    evidence.push({ source: "conntrack-table", path: tableSrc.path, ...(t.firstLine ? { line: t.firstLine } : {}), ...(t.lastLine && t.lastLine !== t.firstLine ? { lastLine: t.lastLine } : {}), text: `top talkers: ${top}`, note: `aggregated over ${t.entries} entries${t.approximate ? " (approximate top lists: very large dump)" : ""}` });

    const conf = new Confidence(0.55, `${a.what} entries are ${pct(a.entries, t.entries)} of the table`);
    if (dead) conf.add(0.2, `${teardown.length} live rule(s) drop TCP FIN/RST before conntrack (${teardown[0]?.rule.origin} line ${teardown[0]?.rule.line})`);
    else if (a.idle !== undefined) conf.add(0.15, `${a.idle} ESTABLISHED entries idle for more than an hour`);
    if (a.raised) conf.add(0.1, `${a.key} = ${a.current} is above the kernel default ${a.kernelDefault}`);
    if (s.fired) conf.add(0.1, "the table overflowed");
    if (t.approximate) conf.add(-0.05, "top lists approximate");
    const expected = facts.conntrack.count?.value;
    if (expected !== undefined && t.entries < 0.5 * expected) conf.add(-0.15, `the dump holds ${t.entries} entries but nf_conntrack_count was ${expected} (another namespace or a cut capture)`);
    for (const p of partialSources(facts, ["conntrack-table"])) conf.add(-0.1, `source incomplete: ${p}`);

    const severity = s.fired ? "high" : (fill ?? 0) >= 0.9 ? "high" : "medium";
    const deadText = dead ? `A rule drops TCP FIN/RST before conntrack (${teardown[0]?.evidence.text}): the connections are closed but their entries stay ESTABLISHED.` : "";
    const summary = `${pct(a.entries, t.entries)} of the ${t.entries} tracked entries are ${a.what} (timeout ${a.key} = ${a.current} s${a.raised ? `, raised above the default ${a.kernelDefault} s` : ""})${a.idle !== undefined ? `; ${a.idle} have been idle for more than an hour` : ""}, in a table that is ${s.fired ? "overflowing" : `${pct(fill ?? 0, 1)} full`}. ${deadText ? `${deadText} ` : ""}Lowering the timeout to ${a.proposed} s would free about ${a.freed} entries. Top talkers: ${top}.`;
    const fixes: DetectedFinding["fixes"] = [];
    if (dead) {
      const del = teardown.map((d) => deleteCommand(d.rule, d.evidence.text)).filter((c): c is string => !!c);
      fixes.push({
        title: "Stop dropping TCP FIN/RST before conntrack",
        rationale: `${teardown.length} rule(s) in the raw hook drop FIN or RST packets, so conntrack never sees connections end: each closed connection keeps an ESTABLISHED entry for ${a.current} s. Remove the rule (or move the filtering after conntrack, in the filter table), then flush the stale entries.`,
        commands: [...del, `conntrack -D -p tcp --state ESTABLISHED${t.byDestinationPort.items[0] ? ` --dport ${t.byDestinationPort.items[0].key.split("/")[1]}` : ""}   # stale entries; live connections are picked up again (nf_conntrack_tcp_loose=1)`],
        persist: ["save the rule set without these rules (iptables-save > /etc/iptables/rules.v4, or edit /etc/nftables.conf)"],
        verify: ["cat /proc/sys/net/netfilter/nf_conntrack_count   # falls as connections close", "grep '^TCP:' /proc/net/sockstat   # orphan count falls to ~0"],
        rollback: ["restore the saved rule set"],
        risk: "Whatever the rule was meant to block (a scan, a middlebox quirk) is no longer blocked in raw; re-add it in the filter table if still needed.",
        cureLikelihood: 0.85,
      });
    }
    fixes.push(timeoutFix(facts, a, { cureLikelihood: Math.min(dead ? 0.5 : 0.8, 0.3 + a.freed / Math.max(1, s.max ?? t.entries)) }));
    const nt = dead ? undefined : notrackFix(facts, { cureLikelihood: 0.4, why: `The ${a.what} entries come from a few ports.` });
    if (nt) fixes.push(nt);
    return [
      {
        severity,
        ...conf.toFinding(),
        summary,
        mechanism: `Entries stay until their state's timeout runs out; each packet refreshes it. ${a.why}. With ${a.key} = ${a.current} s they hold table slots long after the traffic stopped, so the table fills with dead flows while new ones are refused.`,
        evidence,
        ruledOutBy: [
          "The dump was taken in another namespace than the full one, or is cut: compare its entry count with nf_conntrack_count.",
          a.idle !== undefined ? "Long-lived connections that are idle on purpose (database pools without keepalive): lowering the timeout breaks them unless they use TCP keepalives." : "A one-off burst: the composition changes once it ends.",
        ],
        metrics: {
          dumpEntries: t.entries,
          dominant: a.what,
          dominantEntries: a.entries,
          dominantShare: Math.round(a.share * 1000) / 1000,
          idleOverOneHour: a.idle ?? null,
          closedConnections: a.dead ?? null,
          teardownDropRules: teardown.length,
          timeoutKey: a.key,
          currentTimeout: a.current,
          kernelDefaultTimeout: a.kernelDefault ?? null,
          proposedTimeout: a.proposed,
          entriesFreed: a.freed,
          fill: fill !== undefined ? Math.round(fill * 1000) / 1000 : null,
          topSource: t.topSources.items[0]?.key ?? null,
          topDestinationPort: t.byDestinationPort.items[0]?.key ?? null,
        },
        fixes,
      },
    ];
  },
};

/** The command that deletes a live rule, when its origin allows one. */
function deleteCommand(r: ReturnType<typeof teardownDropRules>[number]["rule"], line: string): string | undefined {
  const tool = r.origin.startsWith("ip6") ? "ip6tables" : "iptables";
  if (/^-A \S+ /.test(line)) return `${tool} -t ${r.table} ${line.replace(/^-A /, "-D ")}`;
  if (r.origin.includes("save") || r.origin === "netns-rules") {
    return `${tool} -t ${r.table} -D ${r.chain} ${r.detail.replace(/\s+/g, " ").trim()} -j ${r.target ?? "DROP"}${r.targetOptions ? ` ${r.targetOptions}` : ""}`.replace(/-m (\w+) -m \1/g, "-m $1");
  }
  if (r.origin.startsWith("nft") || r.origin.endsWith("nft-ruleset")) return `nft -a list chain ${r.family} ${r.table} ${r.chain}   # then: nft delete rule ${r.family} ${r.table} ${r.chain} handle <N>`;
  return undefined;
}
