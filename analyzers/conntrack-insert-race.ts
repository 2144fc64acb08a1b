/**
 * conntrack-insert-race: UDP packets (DNS A/AAAA pairs) dropped by the conntrack confirmation
 * race under NAT: the "5-second DNS delay" of Kubernetes (kernel-facts §5).
 */
import { Confidence } from "../src/engine/confidence.js";
import { counterRate, fmt, orchestratorHints, ruleEvidence } from "../src/engine/lib/module-usage.js";
import { type UnifiedRule, liveRules } from "../src/engine/lib/rulesets.js";
import { atLeast } from "../src/parsers/kernel-version.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "conntrack-insert-race";

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "UDP packets lost to the conntrack insertion race (DNS 5-second delay)",
    category: "conntrack",
    defaultSeverity: "medium",
    docs: {
      description:
        "Parallel UDP packets of one socket (glibc/musl send the A and AAAA queries together) create two unconfirmed conntrack entries on different CPUs; the second to be confirmed clashes with the first and is dropped (insert_failed, drop). Behind DNAT to several DNS endpoints (kube-proxy `-m statistic`) the clash is worse. The resolver retries after 5 s.",
      mechanism:
        "__nf_conntrack_confirm() finds the tuple already inserted: before 4.19 the packet is dropped; 4.19 resolves identical clashes (ed07d9a021df), 5.0 skips NAT clash resolution for same-origin entries (4e35c1cb9460), 5.6 allows inserting clashing entries for the multi-endpoint DNAT case (6a757c07e51f). Before 5.10 insert_failed also counts clashes that were resolved (insert_failed > 0 with drop = 0 is harmless); from 5.10 resolved clashes count in clash_resolve and insert_failed counts real losses.",
      signals: [
        "conntrack -S / /proc/net/stat/nf_conntrack: insert_failed, drop, clash_resolve (rates from the collector's two samples)",
        "DNAT/SNAT/MASQUERADE rules for UDP 53, kube-proxy chains (KUBE-SERVICES, KUBE-SVC-*, `-m statistic`)",
        "kernel version vs the fixes (4.19, 5.0, 5.6) and the counter semantics change (5.10)",
      ],
      references: ["kernel-facts.md §5", "https://www.weave.works/blog/racy-conntrack-and-dns-lookup-timeouts", "https://github.com/kubernetes/kubernetes/issues/56903"],
    },
  },
  detect,
};

const NAT_TARGETS = new Set(["DNAT", "SNAT", "MASQUERADE", "dnat", "snat", "masquerade"]);
const DNS_NAT = /(dpt:|dport |--dport |dport )53\b|domain|--to-destination \S+:53\b|dnat to \S+:53\b/;

/** An indexed loop: Array.some with a callback cost 3× as much over 200,000 rules. */
function hasNatMatch(matches: readonly string[]): boolean {
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i];
    if (m === "dnat" || m === "snat" || m === "masquerade") return true;
  }
  return false;
}

/** The live rules this analyzer cares about, in one pass over them (a big rule set has 100,000s). */
function natRules(facts: Facts): { natDns: UnifiedRule[]; statistic: UnifiedRule[]; masq: UnifiedRule[] } {
  const natDns: UnifiedRule[] = [];
  const statistic: UnifiedRule[] = [];
  const masq: UnifiedRule[] = [];
  for (const r of liveRules(facts)) {
    const target = r.target;
    if ((NAT_TARGETS.has(target ?? "") || hasNatMatch(r.matches)) && DNS_NAT.test(`${r.detail} ${r.targetOptions ?? ""} ${facts.lineText(r.path, r.line) ?? ""}`)) natDns.push(r);
    if (r.matches.includes("statistic") && r.chain.startsWith("KUBE-")) statistic.push(r);
    if (target === "MASQUERADE" || target === "SNAT") masq.push(r);
  }
  return { natDns, statistic, masq };
}

function detect(facts: Facts): DetectedFinding[] {
  const kernel = facts.kernel?.value;
  const counters = facts.conntrackCounters;
  const insertFailed = counters?.totals.insert_failed ?? 0;
  const drop = counters?.totals.drop ?? 0;
  const clash = counters?.totals.clash_resolve ?? counters?.totals.clashres ?? 0;
  const { natDns, statistic, masq } = natRules(facts);
  const kube = orchestratorHints(facts).kube;
  const modern = kernel ? atLeast(kernel, "5.10") : undefined;
  const fixed = kernel ? atLeast(kernel, "5.6") : undefined;

  const natContext = natDns.length > 0 || kube.length > 0;
  // Real losses: ≥ 5.10 insert_failed; < 5.10 only when drop also rose and the table did not overflow.
  const tableFull = facts.classTotal("ct-table-full").total;
  const losses = modern === true ? insertFailed : drop > 0 && tableFull === 0 ? Math.min(insertFailed, drop) : 0;
  const harmlessOld = modern === false && insertFailed > 0 && drop === 0;
  const exposed = fixed === false && (natDns.length > 0 || statistic.length > 0);
  if (insertFailed === 0 && !exposed) return [];
  if (!natContext && losses === 0 && !harmlessOld) return [];

  const evidence: Evidence[] = [];
  const metrics: DetectedFinding["metrics"] = { insert_failed: insertFailed, drop, clash_resolve: clash };
  if (counters) for (const e of counters.evidence.slice(0, 3)) evidence.push({ ...e, highlight: "insert_failed", note: e.note ?? "per-CPU conntrack counters" });
  const rate = counterRate(facts, "insert_failed");
  if (rate) {
    metrics.insertFailedPerSecond = rate.perSecond;
    metrics.sampleSeconds = rate.seconds;
  }
  for (const r of natDns.slice(0, 2)) evidence.push(ruleEvidence(facts, r, "NAT rule for DNS (UDP 53): the A/AAAA pair goes through NAT"));
  for (const r of statistic.slice(0, 2)) evidence.push(ruleEvidence(facts, r, "kube-proxy load-balances with -m statistic: parallel queries can be DNATed to different endpoints", "statistic"));
  if (kube[0] && statistic.length === 0) evidence.push(ruleEvidence(facts, kube[0], "kube-proxy chain"));
  if (facts.kernel) evidence.push({ ...facts.kernel.evidence, note: `kernel ${kernel?.raw}: ${fixed ? "has the clash fixes (≥ 5.6)" : "older than the 5.6 fix for DNAT to several endpoints"}` });

  const conf = new Confidence(0.4, "conntrack insertions failed");
  let severity: DetectedFinding["severity"];
  if (harmlessOld) {
    severity = "info";
    conf.add(0.2, `kernel ${kernel?.raw} < 5.10 counts resolved clashes in insert_failed; drop = 0, so nothing was lost`);
  } else if (losses > 0) {
    severity = natContext ? "high" : "medium";
    conf.add(modern ? 0.25 : 0.1, modern ? `kernel ≥ 5.10: insert_failed (${fmt(insertFailed)}) counts real losses` : `drop (${fmt(drop)}) rose with insert_failed and the table never overflowed`);
    if (natContext) conf.add(0.15, "UDP DNS goes through NAT (DNAT/SNAT rules or kube-proxy)");
    if (rate && rate.delta > 0) conf.add(0.1, `still rising: +${rate.delta} in ${rate.seconds} s`);
  } else {
    severity = "low";
    conf.add(-0.1, "no loss counted yet; the kernel predates the fixes and DNS is NATed");
  }
  if (counters?.partial) conf.add(-0.15, `counters partial: ${counters.partialReason ?? "not every CPU"}`);
  if (tableFull > 0) conf.add(-0.15, `the table also overflowed (${fmt(tableFull)} "table full" message(s)): drops are not all from the race`);

  const fixes: DetectedFinding["fixes"] = [];
  if (fixed === false)
    fixes.push({
      title: `Upgrade the kernel to ≥ 5.6 (running ${kernel?.raw})`,
      rationale: "5.6 (6a757c07e51f) lets clashing UDP entries be inserted, covering the DNAT-to-several-endpoints race; 4.19 and 5.0 fixed the simpler cases.",
      commands: [facts.distroFamily === "rhel" ? "dnf install kernel" : facts.distroFamily === "debian" ? "apt-get install linux-image-amd64   # from a release/backports with ≥ 5.6" : "install a kernel ≥ 5.6 from the distribution"],
      persist: ["boot the new kernel by default"],
      verify: ["uname -r", "conntrack -S | grep -o 'insert_failed=[0-9]*'   # expect it to stop rising", "conntrack -S | grep -o 'clash_resolve=[0-9]*'   # ≥ 5.10: resolved clashes are counted here"],
      rollback: ["boot the previous kernel from the boot menu"],
      risk: "Medium: a kernel change needs a reboot and testing.",
      cureLikelihood: 0.85,
    });
  fixes.push({
    title: "Resolver: options single-request-reopen (glibc only)",
    rationale: "glibc then sends A and AAAA sequentially on a new socket after a lost reply, sidestepping the race. musl (Alpine images) ignores it: use use-vc or a local cache there.",
    commands: ["grep -q single-request-reopen /etc/resolv.conf || echo 'options single-request-reopen' >> /etc/resolv.conf"],
    persist: ["/etc/resolv.conf (or the pod's dnsConfig: options: [{name: single-request-reopen}])"],
    verify: ["getent ahosts example.com   # no 5 s pauses", "grep options /etc/resolv.conf"],
    rollback: ["remove the options line"],
    risk: "Low; ineffective with musl.",
    cureLikelihood: 0.6,
  });
  fixes.push({
    title: "NodeLocal DNSCache with NOTRACK for DNS",
    rationale: "Pods query a cache on the node IP; DNS to it is not tracked (raw table NOTRACK), so no conntrack entry can clash.",
    commands: ["iptables -t raw -I PREROUTING -p udp --dport 53 -j CT --notrack", "iptables -t raw -I OUTPUT -p udp --sport 53 -j CT --notrack"],
    persist: ["deploy NodeLocal DNSCache (it installs its own NOTRACK rules)"],
    verify: ["iptables -t raw -S | grep notrack", "conntrack -L -p udp --dport 53 | wc -l   # expect ~0"],
    rollback: ["iptables -t raw -D PREROUTING -p udp --dport 53 -j CT --notrack", "iptables -t raw -D OUTPUT -p udp --sport 53 -j CT --notrack"],
    risk: "Medium: only for DNS traffic that needs no NAT (the local cache); NATed DNS must stay tracked.",
    cureLikelihood: 0.8,
  });
  if (masq.length > 0) {
    const r = masq[0];
    const line = r ? (facts.lineText(r.path, r.line) ?? "").trim() : "";
    const spec = line.startsWith("-A ") ? line.replace(/\s+--random-fully\b/, "") : "";
    fixes.push({
      title: "--random-fully on MASQUERADE/SNAT (SNAT port race)",
      rationale: "Fully random source-port allocation avoids two flows picking the same port at once (race 2); needs iptables ≥ 1.6.2.",
      commands: spec ? [`iptables -t ${r?.table ?? "nat"} ${spec.replace(/^-A /, "-I ").replace(/^(-I \S+)/, "$1 1")} --random-fully`, `iptables -t ${r?.table ?? "nat"} ${spec.replace(/^-A /, "-D ")}`] : ["iptables -t nat -S POSTROUTING | grep -E 'MASQUERADE|SNAT'   # add --random-fully to each"],
      persist: ["the saved rules file (iptables-save > /etc/iptables/rules.v4) or kube-proxy/CNI option (masquerade-all with random-fully)"],
      verify: ["iptables -t nat -S | grep -c random-fully"],
      rollback: spec ? [`iptables -t ${r?.table ?? "nat"} ${spec}`] : [],
      risk: "Low.",
      cureLikelihood: 0.4,
    });
  }

  return [
    {
      severity,
      ...conf.toFinding(),
      summary: harmlessOld
        ? `insert_failed = ${fmt(insertFailed)} with drop = 0 on kernel ${kernel?.raw} (< 5.10): these were clashes the kernel resolved; no packet was lost.`
        : losses > 0
          ? `${fmt(losses)} packet(s) lost to the conntrack insertion race (insert_failed ${fmt(insertFailed)}, drop ${fmt(drop)}${rate ? `, +${rate.delta} in ${rate.seconds} s` : ""})${natContext ? "; DNS goes through NAT" : ""}${fixed === false ? `; kernel ${kernel?.raw} predates the 5.6 fix` : ""}: expect 5-second DNS delays.`
          : `Kernel ${kernel?.raw} predates the conntrack clash fixes (5.6) and UDP DNS is NATed${statistic.length ? " across several endpoints (-m statistic)" : ""}: exposed to 5-second DNS delays, no loss counted yet.`,
      mechanism: `glibc/musl send the A and AAAA queries in parallel from one socket; both packets create unconfirmed conntrack entries on different CPUs and the second to be confirmed clashes with the first (identical tuple, same SNAT port, or DNAT to a different endpoint). ${fixed ? "This kernel (≥ 5.6) inserts clashing UDP entries, so remaining insert_failed are rarer races" : "Before 5.6 the clashing packet is dropped"}; the resolver waits 5 s and retries. ${modern ? "On ≥ 5.10 insert_failed counts only real losses (resolved clashes go to clash_resolve)." : "Before 5.10 insert_failed also counts resolved clashes: only a rising drop shows loss."}`,
      evidence,
      ruledOutBy: ["drop caused by a full table (\"table full, dropping packet\") rather than clashes", "DNS answered by a resolver on the same host without NAT"],
      metrics,
      fixes,
    },
  ];
}
