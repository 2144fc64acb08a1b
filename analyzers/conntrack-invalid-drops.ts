/**
 * conntrack-invalid-drops: packets conntrack classifies INVALID (out of window, no matching
 * entry after a flush or failover, asymmetric routing) and that a `--ctstate INVALID -j DROP` /
 * `ct state invalid drop` rule then drops.
 */
import { Confidence } from "../src/engine/confidence.js";
import { counterRate, fmt, ruleEvidence } from "../src/engine/lib/module-usage.js";
import { type UnifiedRule, liveRules } from "../src/engine/lib/rulesets.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "conntrack-invalid-drops";

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "Packets classified INVALID by conntrack are dropped",
    category: "conntrack",
    defaultSeverity: "medium",
    docs: {
      description:
        "Many packets are classified INVALID by conntrack (the `invalid` counter) and a rule drops them (`-m conntrack --ctstate INVALID -j DROP`, nft `ct state invalid drop`): established TCP sessions stall or reset after a conntrack flush, a failover, asymmetric routing or window tracking disagreements.",
      mechanism:
        "conntrack's TCP tracker checks every segment against the window and state it recorded. A mid-stream segment with no entry (after `conntrack -F`, a failover to another node, an entry timed out) is picked up only when nf_conntrack_tcp_loose = 1; with 0 it is INVALID. Segments outside the recorded window (asymmetric routing: conntrack sees only one direction; window scaling lost) are INVALID too. Conntrack itself does not drop them: a rule matching ctstate INVALID does.",
      signals: [
        "conntrack -S / /proc/net/stat/nf_conntrack: invalid (total, share of found+insert, per second between the collector's samples)",
        "rules dropping INVALID, with their packet counters",
        "sysctls: nf_conntrack_tcp_loose, nf_conntrack_tcp_be_liberal, nf_conntrack_log_invalid, rp_filter",
      ],
      references: ["Documentation/networking/nf_conntrack-sysctl.rst (tcp_loose, tcp_be_liberal, log_invalid)", "kernel-facts.md §3"],
    },
  },
  detect,
};

/**
 * DROP or REJECT in any case, without a lower-cased copy of every target (ACCEPT, chain names):
 * only a d or r (any case) lower-cases to d or r, and lower-casing changes no length here.
 */
export function isDropTarget(target: string): boolean {
  const first = target.charCodeAt(0) | 0x20;
  if ((first !== 0x64 && first !== 0x72) || (target.length !== 4 && target.length !== 6)) return false;
  const lower = target.toLowerCase();
  return lower === "drop" || lower === "reject";
}

function dropsInvalid(r: UnifiedRule): boolean {
  if (!isDropTarget(r.target ?? "")) return false;
  if (r.matches.includes("conntrack") || r.matches.includes("state")) return /INVALID/.test(r.detail);
  return r.matches.includes("ct") && /ct state[^;{]*\binvalid\b|ct state \{[^}]*invalid/.test(r.detail);
}

function detect(facts: Facts): DetectedFinding[] {
  const counters = facts.conntrackCounters;
  const invalid = counters?.totals.invalid ?? 0;
  const rules = liveRules(facts).filter(dropsInvalid);
  const dropped = Math.max(0, ...rules.map((r) => r.counters?.packets ?? 0));
  const rate = counterRate(facts, "invalid");
  const tracked = (counters?.totals.found ?? 0) + (counters?.totals.insert ?? 0);
  const share = invalid + tracked > 0 && tracked > 0 ? invalid / (invalid + tracked) : null;
  const large = invalid >= 100 && (share === null || share >= 0.01 || (rate?.perSecond ?? 0) >= 1);
  if (!large && dropped < 10) return [];
  if (rules.length === 0 && !large) return [];

  const evidence: Evidence[] = [];
  const metrics: DetectedFinding["metrics"] = { invalid, droppedByRules: dropped, invalidDropRules: rules.length, invalidShare: share === null ? null : Math.round(share * 1000) / 1000 };
  if (rate) {
    metrics.invalidPerSecond = rate.perSecond;
    metrics.sampleSeconds = rate.seconds;
  }
  if (counters) for (const e of counters.evidence.slice(0, 2)) evidence.push({ ...e, ...(e.text.includes("invalid") ? { highlight: "invalid" } : {}), note: e.note ?? "conntrack counters" });
  // One evidence per distinct rule text (iptables-nft-save and nft list ruleset show the same rule).
  const seen = new Set<string>();
  for (const r of [...rules].sort((a, b) => (b.counters?.packets ?? -1) - (a.counters?.packets ?? -1))) {
    if (r.origin === "nft-ruleset-json" || seen.has(r.origin) || evidence.length >= 5) continue;
    seen.add(r.origin);
    const ev = ruleEvidence(facts, r, r.counters ? `drops INVALID packets: ${fmt(r.counters.packets)} packet(s) so far` : "drops INVALID packets", r.origin.startsWith("nft") ? "invalid" : "INVALID");
    evidence.push(ev);
  }
  const conf = new Confidence(0.45, `${fmt(invalid)} packet(s) classified INVALID`);
  if (dropped > 0) conf.add(0.25, `the INVALID drop rule counted ${fmt(dropped)} packet(s)`);
  else if (rules.length > 0) conf.add(0.1, "a rule drops INVALID packets (no per-rule counters in the bundle)");
  else conf.add(-0.1, "no rule drops INVALID explicitly: they may still fall to a DROP policy");
  if (rate && rate.delta > 0) conf.add(0.1, `still rising: +${fmt(rate.delta)} in ${rate.seconds} s`);
  if (counters?.partial) conf.add(-0.15, `counters partial: ${counters.partialReason ?? "not every CPU"}`);

  const loose = facts.sysctlNumber("net.netfilter.nf_conntrack_tcp_loose");
  const liberal = facts.sysctlNumber("net.netfilter.nf_conntrack_tcp_be_liberal");
  const logInvalid = facts.sysctlNumber("net.netfilter.nf_conntrack_log_invalid");
  const rp = facts.sysctlNumber("net.ipv4.conf.all.rp_filter");
  const causes: string[] = [];
  if (loose?.value === 0) {
    evidence.push({ ...loose.evidence, highlight: "nf_conntrack_tcp_loose", note: "mid-stream pickup disabled: segments of connections without an entry (after a flush/failover/timeout) are INVALID" });
    causes.push("nf_conntrack_tcp_loose = 0: established connections that lost their entry (conntrack flush, failover, timeout) are not picked up again");
    conf.add(0.1, "nf_conntrack_tcp_loose = 0 explains INVALID mid-stream segments");
    metrics.tcpLoose = 0;
  }
  if (liberal) metrics.tcpBeLiberal = liberal.value;
  if (rp) metrics.rpFilter = rp.value;
  causes.push("asymmetric routing (conntrack sees one direction only): not checkable here, the bundle has no routing table");

  const severity: DetectedFinding["severity"] = dropped >= 1000 || (rate?.perSecond ?? 0) >= 10 ? "high" : rules.length > 0 ? "medium" : "low";
  const first = rules.find((r) => !r.origin.startsWith("nft")) ?? rules[0];
  const isNft = first?.origin.startsWith("nft") ?? false;
  const chain = first?.chain ?? "INPUT";
  const table = first?.table ?? "filter";
  const fixes: DetectedFinding["fixes"] = [
    {
      title: "Log what is INVALID before dropping it (rate-limited)",
      rationale: "Shows which flows are invalid (addresses, flags, window) so the cause can be fixed instead of guessed; nf_conntrack_log_invalid makes conntrack say why.",
      commands: [
        isNft
          ? `nft insert rule ${first?.family === "inet" ? "inet" : "ip"} ${table} ${chain} ct state invalid limit rate 5/minute log prefix "ct-invalid: "`
          : `iptables -t ${table} -I ${chain} 1 -m conntrack --ctstate INVALID -m limit --limit 5/min -j LOG --log-prefix "ct-invalid: "`,
        "sysctl -w net.netfilter.nf_conntrack_log_invalid=6   # 6 = TCP; 255 = every protocol",
        "dmesg -w | grep -E 'ct-invalid|nf_ct_tcp'",
      ],
      persist: [],
      verify: ["dmesg | grep -c ct-invalid   # lines appear, at most 5 per minute"],
      rollback: [isNft ? `nft -a list chain ${first?.family === "inet" ? "inet" : "ip"} ${table} ${chain}   # then nft delete rule … handle <n>` : `iptables -t ${table} -D ${chain} -m conntrack --ctstate INVALID -m limit --limit 5/min -j LOG --log-prefix "ct-invalid: "`, `sysctl -w net.netfilter.nf_conntrack_log_invalid=${logInvalid?.value ?? 0}`],
      risk: "Low (rate-limited).",
      cureLikelihood: 0.2,
    },
  ];
  if (loose?.value === 0)
    fixes.push({
      title: "Re-enable mid-stream pickup: nf_conntrack_tcp_loose=1",
      rationale: "With 0, every established connection that loses its entry (conntrack -F, failover to another node, entry expired) is INVALID until it reconnects; 1 is the kernel default.",
      commands: ["sysctl -w net.netfilter.nf_conntrack_tcp_loose=1"],
      persist: ["/etc/sysctl.d/90-conntrack.conf: net.netfilter.nf_conntrack_tcp_loose = 1 (and load nf_conntrack early, see conntrack-sysctl-not-applied)"],
      verify: ["conntrack -S | grep -o 'invalid=[0-9]*'   # stops rising", "sysctl net.netfilter.nf_conntrack_tcp_loose"],
      rollback: ["sysctl -w net.netfilter.nf_conntrack_tcp_loose=0"],
      risk: "Low: the default; it lets conntrack adopt connections it did not see start.",
      cureLikelihood: 0.8,
    });
  fixes.push({
    title: "Fix the routing so both directions pass this host (asymmetric routing)",
    rationale: "If replies bypass this host, conntrack never sees the handshake and marks segments INVALID. The bundle has no routing table to check this.",
    commands: ["ip route show table all", "ip rule", "sysctl net.ipv4.conf.all.rp_filter"],
    persist: ["routing configuration of the network manager in use"],
    verify: ["conntrack -L | grep -c UNREPLIED   # few, and invalid stops rising"],
    rollback: [],
    risk: "Depends on the network change.",
    cureLikelihood: 0.4,
  });
  if (liberal?.value !== 1)
    fixes.push({
      title: "Last resort: nf_conntrack_tcp_be_liberal=1",
      rationale: "Only out-of-window RSTs are then marked INVALID; other out-of-window segments are accepted. Hides window-tracking problems (asymmetric paths, broken window scaling).",
      commands: ["sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=1"],
      persist: ["/etc/sysctl.d/90-conntrack.conf: net.netfilter.nf_conntrack_tcp_be_liberal = 1"],
      verify: ["conntrack -S | grep -o 'invalid=[0-9]*'   # rises more slowly"],
      rollback: ["sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=0"],
      risk: "Medium: weakens the firewall's TCP sequence checking (spoofed segments inside a flow get through).",
      cureLikelihood: 0.5,
    });

  return [
    {
      severity,
      ...conf.toFinding(),
      summary: `${fmt(invalid)} packet(s) classified INVALID${share !== null ? ` (${(share * 100).toFixed(1)} % of tracked lookups)` : ""}${rate ? `, +${fmt(rate.delta)} in ${rate.seconds} s` : ""}; ${rules.length ? `a rule drops them${dropped ? ` (${fmt(dropped)} packet(s) dropped)` : ""}` : "no explicit rule drops them"}${loose?.value === 0 ? "; nf_conntrack_tcp_loose = 0" : ""}.`,
      mechanism: `Conntrack marks a packet INVALID when it fits no tracked state: ${causes.join("; ")}. The rule matching ctstate INVALID then drops it, so the affected connections stall until they time out or reconnect.`,
      evidence,
      ruledOutBy: ["invalid packets are scans or junk from outside (then dropping them is the intent): check the LOG lines", "the counter grew before a one-off event (flush) and no longer rises"],
      metrics,
      fixes,
    },
  ];
}
