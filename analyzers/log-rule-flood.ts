/**
 * log-rule-flood: LOG / NFLOG rules (nft `log`) without a rate limit on hot chains, and the
 * bursts of `IN= OUT= SRC=` lines they write. A cause of lost evidence: the kernel ring buffer
 * is small (128 KiB in the lab: 1,500 packets overwrote it in 0.18 s), so a flood of LOG lines
 * pushes out the messages that explain the real problem. Seed 000 §5; lab-notes.md.
 */
import { Confidence } from "../src/engine/confidence.js";
import { type RawRule, type RuleSetStats, hotChains, iptablesCommand, iptablesNftManagedTables, isRateLimited, primaryLiveStats, ruleEvidence, ruleSetStats } from "../src/engine/lib/ruleset-stats.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";
import type { KernelEvent } from "../src/facts/facts.js";
import type { KernelLogFacts, KlogMessage } from "../src/parsers/kernel-log.js";
import type { ParsedSource } from "../src/sources/parse.js";

type LogEvent = Extract<KlogMessage, { class: "log-packet" }> & KernelEvent;

const ID = "log-rule-flood";
const LOG_TARGETS = new Set(["LOG", "NFLOG", "ULOG"]);
/** Share of the kernel log above which the log is "all LOG lines". */
export const FLOOD_SHARE = 0.5;
export const LIMIT_OPTS = "-m limit --limit 5/min --limit-burst 10";

interface LogRule {
  rule: RawRule;
  stats: RuleSetStats;
  nflog: boolean;
  prefix?: string;
  packets?: number;
  countersFrom?: RawRule;
}

function isLogRule(r: RawRule): boolean {
  if (r.kind === "nft") return r.matches.includes("log") || /\blog\b/.test(r.spec);
  return r.target !== undefined && LOG_TARGETS.has(r.target);
}

function prefixOf(r: RawRule): string | undefined {
  const m = /--(?:log|nflog)-prefix\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))/.exec(r.spec) ?? /\bprefix\s+"((?:[^"\\]|\\.)*)"/.exec(r.spec);
  const raw = m?.[1] ?? m?.[2];
  return raw?.replace(/\\"/g, '"');
}

const chainIndexes = new WeakMap<RuleSetStats, Map<string, RawRule[]>>();
/** The rules of each chain of a rule set, in order, indexed once (a 200,000-rule set is common). */
function chainIndex(s: RuleSetStats): Map<string, RawRule[]> {
  let idx = chainIndexes.get(s);
  if (!idx) {
    idx = new Map();
    for (const x of s.raw) {
      const k = `${x.table}\u0000${x.chain}`;
      const list = idx.get(k);
      if (list) list.push(x);
      else idx.set(k, [x]);
    }
    chainIndexes.set(s, idx);
  }
  return idx;
}

/** Counters of an iptables-nft rule read from the nft view of the same table (same chain, same position). */
function nftCountersFor(facts: Facts, r: RawRule, all: RuleSetStats[]): RawRule | undefined {
  if (r.kind !== "save" || !r.origin.includes("nft") && r.origin !== "iptables-save") return undefined;
  const fam = r.family === "ipv6" ? "ip6" : "ip";
  for (const s of all.filter((x) => x.origin === "nft-ruleset" || x.origin === "nft-ruleset-json")) {
    if (!iptablesNftManagedTables(facts, s.path).has(`${fam} ${r.table}`)) continue;
    const x = chainIndex(s).get(`${fam} ${r.table}\u0000${r.chain}`)?.[r.position - 1];
    if (x?.counters && isLogRule(x)) return x;
  }
  return undefined;
}

function limitedSpec(r: RawRule): string | undefined {
  if (r.kind !== "save") return undefined;
  const body = r.spec.replace(/^-A \S+\s*/, "");
  const at = body.search(/(^|\s)-j (LOG|NFLOG|ULOG)\b/);
  if (at < 0) return undefined;
  return `${body.slice(0, at).trim()} ${LIMIT_OPTS} ${body.slice(at).trim()}`.trim();
}

function minuteKey(wallTime: string | undefined, uptime: number | undefined): string | undefined {
  if (wallTime) return wallTime.slice(0, 16);
  if (uptime !== undefined) return `uptime-min-${Math.floor(uptime / 60)}`;
  return undefined;
}

type LogSource = { id: "dmesg" | "kernel-log" | "journal"; p: ParsedSource<KernelLogFacts> };
type LogMessage = Extract<KlogMessage, { class: "log-packet" }>;

/** The LOG packet lines of one log, summed up in one pass (the parser keeps the first 2,000, then lines of prefixes not kept yet). */
interface LogPacketLines {
  first?: LogEvent;
  last?: LogEvent;
  peak: number;
  peakKey?: string;
  prefixes: Map<string, number>;
  /** Line numbers by path, to find the rate-limit summaries next to the lines. */
  lines: Map<string, Set<number>>;
  /** Earliest and latest wall time (as strings sort). */
  firstSeen?: string;
  lastSeen?: string;
}

function logPacketLines(facts: Facts, src: LogSource | undefined): LogPacketLines {
  const boot = facts.bootTime?.date.getTime();
  const out: LogPacketLines = { peak: 0, prefixes: new Map(), lines: new Map() };
  const perMinute = new Map<string, number>();
  let first: LogMessage | undefined;
  let last: LogMessage | undefined;
  for (const m of src?.p.value.messages ?? []) {
    if (m.class !== "log-packet") continue;
    first ??= m;
    last = m;
    const wallTime = wallTimeOf(m, boot);
    const k = minuteKey(wallTime, m.uptime);
    if (k) perMinute.set(k, (perMinute.get(k) ?? 0) + 1);
    out.prefixes.set(m.fields.prefix, (out.prefixes.get(m.fields.prefix) ?? 0) + 1);
    let lines = out.lines.get(m.provenance.path);
    if (!lines) out.lines.set(m.provenance.path, (lines = new Set()));
    lines.add(m.provenance.line);
    if (wallTime) {
      if (out.firstSeen === undefined || wallTime < out.firstSeen) out.firstSeen = wallTime;
      if (out.lastSeen === undefined || wallTime > out.lastSeen) out.lastSeen = wallTime;
    }
  }
  for (const [k, n] of perMinute) if (n > out.peak) [out.peak, out.peakKey] = [n, k];
  if (src && first && last) {
    out.first = logEvent(first, src.id, boot);
    out.last = last === first ? out.first : logEvent(last, src.id, boot);
  }
  return out;
}

/** The line's own time, else boot time + uptime. */
function lineWallTime(m: LogMessage, boot: number | undefined): string | undefined {
  return m.time ?? (m.uptime !== undefined && boot !== undefined ? new Date(boot + m.uptime * 1000).toISOString() : undefined);
}

/** The wall time of the message's event (logEvent): without a time of its own, the one the merge gave it, if any. */
function wallTimeOf(m: LogMessage, boot: number | undefined): string | undefined {
  return lineWallTime(m, boot) || (m as LogEvent).wallTime;
}

function logEvent(m: LogMessage, sourceId: LogSource["id"], boot: number | undefined): LogEvent {
  const wallTime = lineWallTime(m, boot);
  return { ...m, sourceId, ...(wallTime ? { wallTime } : {}), timeQuality: m.time ? "inferred" : wallTime ? "derived" : "unknown" } as LogEvent;
}

function persistLine(facts: Facts, r: RawRule): string {
  if (r.kind === "nft") return "nft list ruleset > /etc/nftables.conf   # or edit the rule in /etc/nftables.conf";
  const v6 = r.family === "ipv6";
  if (facts.distroFamily === "rhel") return `${iptablesCommand(r.origin, r.family)}-save > ${v6 ? "/etc/sysconfig/ip6tables" : "/etc/sysconfig/iptables"}   # or: service ${v6 ? "ip6tables" : "iptables"} save`;
  return `${iptablesCommand(r.origin, r.family)}-save > ${v6 ? "/etc/iptables/rules.v6" : "/etc/iptables/rules.v4"}   # or: netfilter-persistent save`;
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "LOG rules flood the kernel log",
    category: "logging",
    defaultSeverity: "medium",
    docs: {
      description:
        "Finds LOG/NFLOG targets and nft `log` statements without a rate limit on chains that see most packets (INPUT, FORWARD, PREROUTING and the chains they jump to, or chains whose counters show heavy traffic), and bursts of LOG packet lines (`IN= OUT= SRC=…`) in the kernel log: how many, the peak per minute, and how much of the log they take.",
      mechanism:
        "Every packet that reaches an unlimited LOG rule writes one line to the kernel ring buffer; the buffer is small (often 128 KiB–1 MiB), so a burst overwrites everything older, including the messages that explain the real problem, and costs CPU in printk and in syslog/journald. NFLOG sends packets to userspace instead (ulogd), so it does not fill the ring buffer.",
      signals: [
        "rules: -j LOG / -j NFLOG / nft `log` without -m limit / hashlimit / `limit rate`, on a hot chain (iptables-save, listings, nft)",
        "counters of those rules (iptables-save -c, -nvL, nft counters)",
        "log-packet: kernel log lines with IN= OUT= SRC= (count, per-minute peak, share of the log)",
        "the ring buffer (dmesg) does not start at boot and is mostly LOG lines: older evidence lost",
        "`… callbacks suppressed` next to LOG lines",
      ],
      references: ["seed 000 §5 (logging excessive traffic)", "lab-notes.md (1,500 packets overwrote the 128 KiB ring buffer in 0.18 s)"],
    },
    explains: [],
  },

  detect(facts) {
    const all = ruleSetStats(facts);
    const live = primaryLiveStats(facts);
    const unlimited: LogRule[] = [];
    for (const s of live) {
      const hot = hotChains(facts, s);
      for (const r of s.raw) {
        if (!isLogRule(r) || isRateLimited(r)) continue;
        const fromNft = r.counters ? undefined : nftCountersFor(facts, r, all);
        const packets = r.counters?.packets ?? fromNft?.counters?.packets;
        const isHot = hot.has(`${r.table}\u0000${r.chain}`) || (packets ?? 0) >= 1000;
        if (!isHot) continue;
        const nflog = r.kind === "nft" ? /\blog\b[^;]*\bgroup\b/.test(r.spec) : r.target !== "LOG";
        const prefix = prefixOf(r);
        unlimited.push({ rule: r, stats: s, nflog, ...(prefix !== undefined ? { prefix } : {}), ...(packets !== undefined ? { packets } : {}), ...(fromNft ? { countersFrom: fromNft } : {}) });
      }
    }

    const total = facts.classTotal("log-packet");
    const logSources = (["dmesg", "kernel-log", "journal"] as const).flatMap((id) => facts.sources(id).map((p) => ({ id, p })));
    const bestSrc = logSources.find((x) => x.p.path === total.path);
    // Count in the one log that holds the most LOG lines (logs overlap; merging them across files is lossy).
    const { first: firstEv, last: lastEv, peak, peakKey, prefixes, lines, firstSeen, lastSeen } = logPacketLines(facts, bestSrc);
    const topPrefix = [...prefixes.entries()].sort((a, b) => b[1] - a[1])[0];
    const dmesgFlooded = logSources.filter(({ id, p }) => id === "dmesg" && p.value.logPacketShare >= FLOOD_SHARE && !p.value.startsAtBoot && p.value.logPacketCount >= 50);
    const maxShare = Math.max(0, ...logSources.map(({ p }) => p.value.logPacketShare));
    const suppressedNear = facts.kernelEvents("ratelimit-summary").filter((s) => {
      const near = lines.get(s.provenance.path);
      if (near) for (let d = -2; d <= 2; d++) if (near.has(s.provenance.line + d)) return true;
      return false;
    });

    const lineCount = total.count;
    const floodLines = lineCount >= 200 || peak >= 100 || dmesgFlooded.length > 0;
    const logRules = unlimited.filter((u) => !u.nflog);
    if (unlimited.length === 0 && !floodLines) return [];

    // Which unlimited rule wrote the lines: same prefix.
    const matched = logRules.filter((u) => u.prefix !== undefined && prefixes.has(u.prefix.trim()));

    const evidence: Evidence[] = [];
    for (const u of unlimited.slice(0, 4)) {
      const cnt = u.packets !== undefined ? `; ${u.packets.toLocaleString("en-US")} packets hit it` : "";
      evidence.push(ruleEvidence(facts, u.rule, `${u.nflog ? "NFLOG" : "LOG"} rule without a rate limit on hot chain ${u.rule.chain} (rule ${u.rule.position} of the chain)${cnt}`, u.rule.kind === "nft" ? "log" : `-j ${u.rule.target}`));
      if (u.countersFrom) evidence.push(ruleEvidence(facts, u.countersFrom, `the same rule in the nf_tables view, with its counters`, "counter"));
    }
    if (firstEv) evidence.push(facts.eventEvidence(firstEv, "IN=", `first of ${lineCount.toLocaleString("en-US")} LOG packet lines in this log${topPrefix ? ` (prefix "${topPrefix[0]}": ${topPrefix[1]})` : ""}`));
    if (lastEv && lastEv !== firstEv) evidence.push(facts.eventEvidence(lastEv, "IN=", "last LOG packet line"));
    for (const { p } of dmesgFlooded) {
      const first = p.value.messages[0];
      evidence.push(
        facts.evidence("dmesg", { path: p.path, line: first?.provenance.line ?? 1 }, first?.raw ?? "", {
          note: `the ring buffer starts at uptime ${p.value.firstUptime ?? "?"} s, not at boot, and ${Math.round(p.value.logPacketShare * 100)}% of its ${p.value.messageCount} messages are LOG lines: older messages were overwritten`,
        }),
      );
    }
    for (const s of suppressedNear.slice(0, 2)) evidence.push(facts.eventEvidence(s, "callbacks suppressed", "rate-limit summary next to the LOG lines"));

    let severity: DetectedFinding["severity"];
    if (dmesgFlooded.length > 0 || (floodLines && maxShare >= FLOOD_SHARE && logRules.length > 0)) severity = "high";
    else if (floodLines || logRules.some((u) => (u.packets ?? 0) >= 1000)) severity = "medium";
    else severity = "low";

    const conf = new Confidence(floodLines ? 0.55 : 0.4, floodLines ? "the kernel log holds a burst of LOG packet lines" : "an unlimited LOG rule on a hot chain (no burst in the collected logs)");
    if (matched.length > 0) conf.add(0.2, `the lines carry the prefix of the unlimited rule ("${matched[0]!.prefix}")`);
    else if (logRules.length > 0 && floodLines) conf.add(0.1, "an unlimited LOG rule exists on a hot chain");
    if (dmesgFlooded.length > 0) conf.add(0.15, "the ring buffer is all LOG lines and no longer starts at boot");
    if (logRules.some((u) => (u.packets ?? 0) >= 1000)) conf.add(0.1, "the rule's counters show heavy traffic");
    if (floodLines && unlimited.length === 0 && live.length > 0) conf.add(-0.15, "no unlimited LOG rule in the collected rules: the lines may come from a namespace or a rule removed since");
    if (live.length === 0) conf.add(-0.1, "no live rule listing in the bundle");
    if (logSources.some(({ p }) => p.truncated)) conf.add(-0.05, "a log source was truncated: counts are a lower bound");

    const fixes: DetectedFinding["fixes"] = [];
    for (const u of (matched.length ? matched : logRules.length ? logRules : unlimited).slice(0, 3)) {
      const r = u.rule;
      const body = r.spec.replace(/^-A \S+\s*/, "");
      if (r.kind === "save") {
        const ipt = iptablesCommand(r.origin, r.family);
        const newBody = limitedSpec(r) ?? `${body} ${LIMIT_OPTS}`;
        fixes.push({
          title: `Rate-limit the ${u.nflog ? "NFLOG" : "LOG"} rule ${r.chain} #${r.position}${u.prefix ? ` ("${u.prefix.trim()}")` : ""}`,
          rationale: `The rule \`${r.spec}\` logs every matching packet${u.packets !== undefined ? ` (${u.packets.toLocaleString("en-US")} so far)` : ""}; with ${LIMIT_OPTS} it logs at most 5 per minute after a burst of 10, and the rest of the chain is unchanged.`,
          commands: [`${ipt} -t ${r.table} -S ${r.chain} | sed -n '${r.position + 1}p'   # check that rule ${r.position} is: ${r.spec}`, `${ipt} -t ${r.table} -R ${r.chain} ${r.position} ${newBody}`],
          persist: [persistLine(facts, r)],
          verify: [`${ipt} -t ${r.table} -S ${r.chain} | grep -- '--limit 5/min'`, `dmesg | tail -n 50 | grep -c '${(u.prefix ?? "IN=").trim()}'   # a few lines per minute, no more`],
          rollback: [`${ipt} -t ${r.table} -R ${r.chain} ${r.position} ${body}`],
          risk: "low: only the logging changes; packets are accepted/dropped as before. Fewer lines are logged by design.",
          cureLikelihood: 0.9,
        });
      } else if (r.kind === "nft") {
        const [fam, tab] = r.table.split(" ") as [string, string];
        const newText = r.spec.replace(/\blog\b/, "limit rate 5/minute burst 10 packets log");
        fixes.push({
          title: `Rate-limit the nft log rule in ${r.table} ${r.chain}${u.prefix ? ` ("${u.prefix.trim()}")` : ""}`,
          rationale: `\`${r.spec}\` logs every matching packet; \`limit rate 5/minute burst 10 packets\` before \`log\` keeps at most 5 per minute.`,
          commands:
            r.handle !== undefined
              ? [`nft replace rule ${fam} ${tab} ${r.chain} handle ${r.handle} ${newText}`]
              : [`nft -a list chain ${fam} ${tab} ${r.chain}   # find the handle of: ${r.spec}`, `nft replace rule ${fam} ${tab} ${r.chain} handle <HANDLE> ${newText}`],
          persist: [persistLine(facts, r)],
          verify: [`nft list chain ${fam} ${tab} ${r.chain} | grep 'limit rate 5/minute'`],
          rollback: [`nft replace rule ${fam} ${tab} ${r.chain} handle ${r.handle ?? "<HANDLE>"} ${r.spec}`],
          risk: "low: only the logging changes.",
          cureLikelihood: 0.9,
        });
      } else {
        const ipt = r.family === "ipv6" ? "ip6tables" : "iptables";
        fixes.push({
          title: `Rate-limit the LOG rule ${r.chain} #${r.position}`,
          rationale: `The listing shows rule ${r.position} of ${r.chain} logging without a limit (${r.spec.split("# listing: ")[1] ?? r.spec}); re-write it with ${LIMIT_OPTS}.`,
          commands: [`${ipt} -t ${r.table} -S ${r.chain} | sed -n '${r.position + 1}p'   # the exact rule`, `${ipt} -t ${r.table} -R ${r.chain} ${r.position} <the same rule> ${LIMIT_OPTS} -j LOG <its LOG options>`],
          persist: [persistLine(facts, r)],
          verify: [`${ipt} -t ${r.table} -S ${r.chain} | grep -- '--limit 5/min'`],
          rollback: [`${ipt} -t ${r.table} -R ${r.chain} ${r.position} <the rule as printed by the first command>`],
          risk: "low: only the logging changes.",
          cureLikelihood: 0.85,
        });
      }
    }
    const ref = logRules[0]?.rule;
    if (ref && ref.kind === "save") {
      const ipt = iptablesCommand(ref.origin, ref.family);
      fixes.push({
        title: "Log only what you drop, through NFLOG and ulogd",
        rationale: "Logging accepted traffic is rarely needed; NFLOG sends the packets to a userspace daemon (ulogd2) instead of the kernel ring buffer, so the kernel log keeps its other messages.",
        commands: [
          `${ipt} -t ${ref.table} -N LOGDROP`,
          `${ipt} -t ${ref.table} -A LOGDROP ${LIMIT_OPTS} -j NFLOG --nflog-group 1 --nflog-prefix "DROP: "`,
          `${ipt} -t ${ref.table} -A LOGDROP -j DROP`,
          `# then send the packets you drop to -j LOGDROP instead of -j DROP, and delete the LOG rule: ${ipt} -t ${ref.table} -D ${ref.chain} ${ref.position}`,
          facts.distroFamily === "rhel" ? "dnf install ulogd   # (EPEL) and enable ulogd.service" : "apt-get install ulogd2   # writes /var/log/ulog/syslogemu.log",
        ],
        persist: [persistLine(facts, ref)],
        verify: [`${ipt} -t ${ref.table} -nvL LOGDROP`, "tail /var/log/ulog/syslogemu.log"],
        rollback: [`${ipt} -t ${ref.table} -F LOGDROP`, `${ipt} -t ${ref.table} -X LOGDROP   # after removing the jumps to it`],
        risk: "medium: changes which packets are logged and where; review the jumps before deleting the LOG rule.",
        cureLikelihood: 0.7,
      });
    }
    if (dmesgFlooded.length > 0)
      fixes.push({
        title: "Keep kernel messages that the flood would overwrite",
        rationale: "The ring buffer was overwritten by LOG lines, so messages from before the flood are gone from dmesg; a persistent journal or kern.log keeps them, and a larger ring buffer delays the loss.",
        commands: ["journalctl -k -b --no-pager | grep -v ' IN=' | tail -n 200   # if the journal is persistent", "grep -v ' IN=' /var/log/kern.log | tail -n 200"],
        persist: ["add log_buf_len=4M to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub / grub2-mkconfig)", "mkdir -p /var/log/journal   # persistent journal"],
        verify: ["dmesg | head -n 1   # starts at [    0.000000] after a reboot"],
        rollback: ["remove log_buf_len from the kernel command line"],
        risk: "low",
        cureLikelihood: 0.3,
      });

    const metrics: DetectedFinding["metrics"] = {
      unlimitedLogRules: logRules.length,
      unlimitedNflogRules: unlimited.length - logRules.length,
      logPacketLines: lineCount,
      logPacketSuppressed: total.suppressed,
      peakPerMinute: peak,
      peakMinute: peakKey ?? null,
      logPacketShare: Math.round(maxShare * 1000) / 1000,
      ringBufferOverwritten: dmesgFlooded.length > 0,
      topPrefix: topPrefix?.[0] ?? null,
      topPrefixLines: topPrefix?.[1] ?? 0,
      rulePackets: logRules[0]?.packets ?? null,
      logSource: total.path ?? null,
    };

    const parts: string[] = [];
    if (logRules.length > 0) {
      const u = (matched[0] ?? logRules[0])!;
      parts.push(
        `${logRules.length} LOG rule${logRules.length > 1 ? "s" : ""} without a rate limit on hot chains (e.g. ${u.rule.chain} #${u.rule.position}${u.prefix ? ` prefix "${u.prefix.trim()}"` : ""}${u.packets !== undefined ? `, ${u.packets.toLocaleString("en-US")} packets` : ""}).`,
      );
    } else if (unlimited.length > 0) parts.push(`${unlimited.length} NFLOG rule${unlimited.length > 1 ? "s" : ""} without a rate limit on hot chains (userspace logging load, not the kernel ring buffer).`);
    if (lineCount > 0)
      parts.push(`${lineCount.toLocaleString("en-US")} LOG packet lines in ${bestSrc ? bestSrc.p.path.split("/").slice(1).join("/") : "the kernel log"}${peak ? `, peak ${peak.toLocaleString("en-US")}/minute` : ""}, ${Math.round(maxShare * 100)}% of the log.`);
    if (dmesgFlooded.length > 0) parts.push("The ring buffer is all LOG lines: older evidence lost.");

    const mechanism = [
      "Each packet that reaches an unlimited LOG rule prints one line through the kernel's printk into the ring buffer; the buffer has a fixed size (CONFIG_LOG_BUF_SHIFT, often 128 KiB–1 MiB, `log_buf_len=` at boot), so a burst of packets overwrites every older message.",
      dmesgFlooded.length > 0
        ? "Here dmesg no longer starts at boot and is almost only LOG lines: whatever the kernel said before the burst (table full, allocation failures, module loads) is gone from this source, so other conclusions may rest on syslog/journal copies only."
        : "",
      "Writing the lines also costs CPU (printk, syslog, journald) on every packet. NFLOG sends packets to userspace over netlink instead (ulogd2) and does not touch the ring buffer.",
    ]
      .filter(Boolean)
      .join(" ");

    return [
      {
        severity,
        ...conf.toFinding(),
        summary: parts.join(" "),
        mechanism,
        evidence,
        ruledOutBy: ["the LOG lines come from a rule that is rate-limited upstream (the jump into its chain has -m limit)", "the burst was a deliberate, short debugging session and the rule has been removed since"],
        metrics,
        ...(firstSeen ? { firstSeen } : {}),
        ...(lastSeen ? { lastSeen } : {}),
        fixes,
      },
    ];
  },
};
