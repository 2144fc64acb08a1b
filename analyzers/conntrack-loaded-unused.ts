/**
 * conntrack-loaded-unused: nf_conntrack is in the kernel although no rule needs it (seed 001, the
 * SoundCloud post-mortem: `iptables -t nat -L` loaded iptable_nat → nf_nat → nf_conntrack). On
 * kernels up to 4.9 that alone tracks every packet in every netns and can fill the table; from
 * 4.10 nothing is tracked until a rule asks for it (kernel-facts §2.1).
 */
import { Confidence } from "../src/engine/confidence.js";
import {
  RULELESS_CONNTRACK_USERS,
  conntrackPresence,
  conntrackRules,
  fmt,
  hostPath,
  ruleCoverage,
  secondsBetween,
  tracksEveryPacketOnLoad,
  unloadOrder,
} from "../src/engine/lib/module-usage.js";
import { ruleSets } from "../src/engine/lib/rulesets.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "conntrack-loaded-unused";

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "nf_conntrack loaded although no rule needs it",
    category: "modules",
    defaultSeverity: "medium",
    docs: {
      description:
        "nf_conntrack is loaded as a module while the live rule set has no stateful match, no NAT rule, no CT target and no nft ct/nat expression: connection tracking was pulled in by accident, typically by listing the nat table (`iptables -t nat -L` with legacy iptables loads iptable_nat → nf_nat → nf_conntrack).",
      mechanism:
        "Up to kernel 4.9 nf_conntrack_ipv4 registered its hooks globally when it loaded, so every packet in every network namespace was tracked and the default nf_conntrack_max could fill on a busy host ('table full, dropping packet'). From 4.10 hooks are registered per netns only when a rule needs conntrack (nf_ct_netns_get): the module loaded alone tracks nothing, but the first stateful or NAT rule added later starts tracking with the default sizing.",
      signals: [
        "lsmod / /proc/modules: nf_conntrack (and nf_conntrack_ipv4 on ≤ 4.18) loaded, with its holders (iptable_nat, nf_nat)",
        "kernel log (≤ 4.14): load banner `nf_conntrack version 0.5.0 (N buckets, M max)` and `ip_tables: (C) 2000-2006 Netfilter Core Team`, with their time",
        "/sys/module/nf_conntrack/parameters and net.netfilter.nf_conntrack_* sysctls exist only while the module is in",
        "every live rule set (iptables-save of each backend, listings, nft ruleset): no rule needing conntrack",
        "an empty nat table (/proc/net/ip_tables_names lists nat, iptable_nat loaded, no nat rule): the `iptables -t nat -L` signature",
        "nf_conntrack_count and the conntrack counters: 0 on ≥ 4.10 confirms nothing is tracked",
      ],
      references: [
        "https://developers.soundcloud.com/blog/shoot-yourself-in-the-foot-with-iptables-and-kmod-auto-loading",
        "kernel-facts.md §2.1 (per-netns hooks since 4.10: nf_ct_netns_get)",
        "modprobe.d(5): install, blacklist",
      ],
    },
    explains: ["conntrack-table-full", "conntrack-near-capacity"],
  },
  detect,
};

function detect(facts: Facts): DetectedFinding[] {
  const presence = conntrackPresence(facts);
  if (presence.state === "absent" || presence.state === "builtin") return [];
  // Modules that track without rules (Open vSwitch ct action, IPVS, flowtables): conntrack is used.
  const rulelessUsers = presence.otherUsers.filter((u) => (RULELESS_CONNTRACK_USERS as readonly string[]).includes(u) && u !== "br_netfilter");
  if (rulelessUsers.length > 0) return [];
  const needing = conntrackRules(facts);
  if (needing.length > 0) return [];
  // A rule extension that holds conntrack is referenced by a rule now (use count > 0): a rule exists that the bundle does not show.
  if (presence.ruleModulesInUse.length > 0) return [];

  const kernel = facts.kernel?.value;
  const everyPacket = tracksEveryPacketOnLoad(facts);
  const coverage = ruleCoverage(facts);
  const sets = ruleSets(facts);
  const saved = sets.filter((s) => !s.live).flatMap((s) => s.rules).filter((r) => r.needsConntrack);
  const evidence: Evidence[] = [...presence.evidence];
  const metrics: DetectedFinding["metrics"] = {};
  const conf = new Confidence(0.55, "nf_conntrack is in the kernel and no live rule needs it");
  if (presence.state === "inferred") conf.add(-0.1, "no module listing (lsmod / /proc/modules) in the bundle: presence inferred from the banner, parameters or sysctls");

  // Rule sources.
  const liveSets = sets.filter((s) => s.live);
  for (const s of liveSets.slice(0, 4)) {
    evidence.push({
      source: s.origin,
      path: s.path,
      text: `${s.rules.length} rule(s) in table(s) ${s.tables.join(", ") || "(none)"}`,
      note: s.rules.length === 0 ? "live rule set: no rule at all" : `live rule set: ${s.rules.length} rule(s), none needs conntrack`,
    });
  }
  metrics.liveRuleSets = liveSets.length;
  metrics.liveRules = liveSets.reduce((n, s) => n + s.rules.length, 0);
  if (liveSets.length === 0) conf.add(-0.3, "no live rule listing in the bundle: absent rule sources are not the same as no rules");
  else if (!coverage.complete) conf.add(-0.15, `rules not collected for: ${coverage.missing.join(", ")}`);
  else conf.add(0.15, "every rule backend that could hold rules was collected (a backend whose module is not loaded holds none)");
  for (const st of ["iptables-save", "iptables-legacy-save", "nft-ruleset"] as const) {
    const s = facts.status(st);
    if (s?.status === "truncated") conf.add(-0.15, `${st} is truncated: a stateful rule may be in the part cut off`);
  }
  // Saved boot rules that need conntrack: the module is needed, the rules just are not (yet) loaded.
  if (saved.length > 0) return [];

  // The `iptables -t nat -L` signature: nat table registered, iptable_nat loaded, no nat rule.
  const natLoaded = facts.loadedModules?.get("iptable_nat");
  const names = facts.first("ip-tables-names");
  const natName = names?.value.entries.find((n) => n.name === "nat");
  const natTableEmpty = liveSets.some((s) => s.tables.includes("nat")) && !liveSets.some((s) => s.rules.some((r) => r.table === "nat"));
  if (natLoaded || natTableEmpty) {
    conf.add(0.1, "an empty nat table is registered (iptable_nat loaded, no nat rule): the `iptables -t nat -L` signature");
    if (natName) evidence.push(facts.evidence("ip-tables-names", natName.provenance, "nat", { highlight: "nat", note: "the legacy nat table exists (listing it creates it)" }));
    if (natLoaded) evidence.push({ ...natLoaded, note: "iptable_nat loaded although the nat table has no rule: it holds nf_nat → nf_conntrack" });
  }
  metrics.emptyNatTable = Boolean(natLoaded || natTableEmpty);

  // Is anything tracked now?
  const count = facts.conntrack.count;
  if (count) {
    metrics.conntrackCount = count.value;
    evidence.push({ ...count.evidence, note: `${fmt(count.value)} entries tracked now` });
  }
  const counters = facts.conntrackCounters;
  const drops = counters?.totals.drop ?? 0;
  if (counters) metrics.drop = drops;
  const full = facts.kernelEvents("ct-table-full");
  const fullTotal = facts.classTotal("ct-table-full").total;
  metrics.tableFullMessages = fullTotal;

  // Load event shortly before the first drop.
  const banner = facts.kernelEvents("ct-banner")[0];
  const tablesBanner = facts.kernelEvents("module-banner").find((m) => m.fields.module === "ip_tables");
  if (tablesBanner) evidence.push(facts.eventEvidence(tablesBanner, "ip_tables", "ip_tables loaded (an iptables command ran)"));
  const firstFull = full[0];
  let firstSeen: string | undefined;
  if (banner && firstFull) {
    const gap = secondsBetween(banner.wallTime, firstFull.wallTime) ?? (banner.uptime !== undefined && firstFull.uptime !== undefined && banner.sourceId === firstFull.sourceId ? firstFull.uptime - banner.uptime : undefined);
    if (gap !== undefined && gap >= 0) {
      metrics.secondsFromLoadToFirstDrop = Math.round(gap);
      if (gap <= 86400) conf.add(0.1, `nf_conntrack was loaded ${Math.round(gap)} s before the first "table full" message`);
    }
    evidence.push(facts.eventEvidence(firstFull, "table full", "first table-full message after the load"));
  }
  if (banner?.wallTime) firstSeen = banner.wallTime;

  let severity: DetectedFinding["severity"];
  let harmText: string;
  const kname = kernel?.raw ?? "unknown";
  // From 4.10 entries or drops exist only if some rule asks for tracking: conntrack is in use by a rule the bundle lacks.
  if (everyPacket === false && ((count?.value ?? 0) > 0 || fullTotal > 0 || drops > 0)) return [];
  if (everyPacket === true) {
    severity = "high";
    if (fullTotal > 0 || drops > 0) {
      severity = "high";
      conf.add(0.1, `kernel ${kname} ≤ 4.9 tracks every packet once the module is loaded, and the table overflowed (${fmt(fullTotal)} "table full" message(s), drop=${fmt(drops)})`);
    } else conf.add(0.05, `kernel ${kname} ≤ 4.9 tracks every packet once the module is loaded`);
    harmText = `On kernel ${kname} (≤ 4.9) loading nf_conntrack_ipv4 registers conntrack hooks in every network namespace, so every packet is now tracked even though no rule asks for it; with the default nf_conntrack_max${facts.conntrack.max ? ` (${fmt(facts.conntrack.max.value)})` : ""} a busy host fills the table and new connections are dropped ("table full, dropping packet").`;
  } else if (everyPacket === false) {
    severity = "low";
    if (count) conf.add(0.05, `nf_conntrack_count is ${count.value}: nothing is tracked, as expected on ≥ 4.10`);
    harmText = `Harmless on this kernel (${kname}): since 4.10 conntrack hooks are registered only when a rule needs them, so nothing is tracked${count ? ` (nf_conntrack_count = ${fmt(count.value)})` : ""}. On a kernel ≤ 4.9 the same load would track every packet in every netns and could fill the table (seed 001: SoundCloud, 2012). Adding any stateful or NAT rule later (or docker, kube-proxy) starts tracking with the default sizing.`;
  } else {
    severity = "medium";
    conf.add(-0.1, "kernel version unknown: whether loading alone tracks packets (≤ 4.9) cannot be decided");
    harmText = "Kernel version unknown: up to 4.9 the load alone tracks every packet; from 4.10 nothing is tracked until a rule needs it.";
  }

  const chain = unloadOrder(facts, "nf_conntrack");
  const order = chain.length > 0 ? chain : ["iptable_nat", "nf_nat", "nf_conntrack"];
  metrics.unloadOrder = order.join(" ");
  metrics.holders = presence.holders.join(",");
  metrics.kernelTracksEveryPacket = everyPacket ?? null;

  const natCmd = "cat /proc/net/ip_tables_names";
  const blacklists = facts
    .sources("modprobe-d")
    .flatMap((p) => p.value.disabled)
    .filter((d) => d.module === "nf_conntrack" || d.module === "nf_conntrack_ipv4");
  for (const b of blacklists)
    evidence.push(
      facts.evidence("modprobe-d", b.provenance, `${b.how} ${b.module}`, {
        highlight: b.module,
        note: b.blocksDependencyLoad ? "this modprobe.d rule should have stopped the load: it was added after the module loaded" : "plain blacklist: it does not stop nf_conntrack loading as a dependency of nf_nat/iptable_nat (ineffective here)",
      }),
    );
  const ineffective = blacklists.some((b) => !b.blocksDependencyLoad);

  const summary =
    `nf_conntrack is loaded${presence.holders.length ? ` (held by ${presence.holders.join(", ")})` : ""} but ${metrics.liveRules === 0 ? (liveSets.length === 0 ? "no live rule set was collected to show a rule that needs it" : "the live rule set holds no rule at all") : `none of the ${metrics.liveRules} live rule(s) needs connection tracking`}` +
    `${metrics.emptyNatTable ? "; the nat table exists and is empty, the mark of someone listing it (`iptables -t nat -L`)" : ""}. ` +
    (everyPacket === true ? `Kernel ${kname} ≤ 4.9 therefore tracks every packet${fullTotal > 0 ? ` and the table overflowed (${fmt(fullTotal)} "table full" message(s))` : ""}.` : everyPacket === false ? `Harmless on kernel ${kname} (nothing is tracked without a rule).` : "");

  const depends = "docker, kube-proxy, libvirt NAT, MASQUERADE/SNAT/DNAT, `-m conntrack`/`-m state` and nft `ct` rules, and the `conntrack` tool";
  const blockFile = "/etc/modprobe.d/nfdiag-no-conntrack.conf";
  const blockLines = everyPacket === true ? ["install nf_conntrack_ipv4 /bin/false", "install nf_conntrack /bin/false"] : ["install nf_conntrack /bin/false"];
  const fixes: DetectedFinding["fixes"] = [
    {
      title: `Unload the conntrack chain: modprobe -r ${order.join(" ")}`,
      rationale: `Removes the modules in dependency order (holders first, computed from lsmod "Used by"); modprobe -r also drops dependencies left unused (nf_defrag_ipv4/6, libcrc32c). It refuses if anything still uses them, so it cannot break a live NAT.`,
      commands: [natCmd, "iptables-legacy-save -t nat   # only if nat is listed above: the table must hold no rule", `modprobe -r ${order.join(" ")}`],
      persist: [],
      verify: ["grep -E '^(nf_conntrack|nf_nat|iptable_nat) ' /proc/modules   # expect no output", "ls /proc/sys/net/netfilter/nf_conntrack_max   # expect: No such file or directory"],
      rollback: [`modprobe ${order[0] ?? "iptable_nat"}`],
      risk: "Low: modprobe -r fails with 'Module … is in use' rather than removing a module something holds. Check first that the nat table listed above has no rule.",
      cureLikelihood: everyPacket === true ? 0.9 : 0.6,
    },
    {
      title: `Keep it unloaded: ${blockLines.join("; ")} in ${blockFile}`,
      rationale:
        `An install command replaces the module load, so it also stops loads as a dependency of nf_nat/iptable_nat; a plain \`blacklist nf_conntrack\` only ignores the module's aliases and does NOT stop dependency loads${ineffective ? " (the blacklist line in this bundle is exactly that: ineffective)" : ""}. This breaks everything that needs conntrack: ${depends}. They then fail with "can't initialize iptables table \`nat': Table does not exist (do you need to insmod?)" and "Error running install command '/bin/false' for module nf_conntrack".`,
      commands: [`printf '%s\\n' ${blockLines.map((l) => `'${l}'`).join(" ")} > ${blockFile}`],
      persist: [`${blockFile}:`, ...blockLines.map((l) => `  ${l}`)],
      verify: ["modprobe -n -v nf_conntrack   # expect: install /bin/false", "iptables-legacy -t nat -L -n   # expect: Table does not exist (do you need to insmod?)", "grep -c nf_conntrack /proc/modules   # expect 0 after the unload and a reboot"],
      rollback: [`rm ${blockFile}`],
      risk: `High if anything on this host needs NAT or stateful filtering (${depends}): they stop working. Only for hosts that must never track connections.`,
      cureLikelihood: everyPacket === true ? 0.85 : 0.4,
    },
    {
      title: "Never list the nat table on this host: use iptables-save / iptables -S",
      rationale:
        "`iptables -t nat -L` (legacy backend) asks the kernel for the nat table, which request_module()s iptable_nat → nf_nat → nf_conntrack. `iptables-legacy-save` dumps only the tables already in /proc/net/ip_tables_names, and `iptables -S` lists only the filter table. With iptables-nft, `-t nat -L` loads only nf_tables/nfnetlink, but adding any nat or `-m conntrack` rule loads nf_conntrack.",
      commands: [natCmd, "iptables-save", "iptables -S"],
      persist: [],
      verify: [`${natCmd}   # nat must not appear unless a NAT rule is intended`],
      rollback: [],
      risk: "None (read-only commands).",
      cureLikelihood: 0.3,
    },
  ];
  if (ineffective) {
    const b = blacklists.find((x) => !x.blocksDependencyLoad);
    if (b) {
      const f = fixes[1];
      if (f) f.commands.unshift(`sed -i '${b.provenance.line}s/^/# /' ${hostPath(b.provenance.path)}   # the ineffective blacklist line`);
    }
  }

  return [
    {
      severity,
      ...conf.toFinding(),
      summary,
      mechanism: harmText,
      evidence,
      ruledOutBy: [
        "a stateful or NAT rule in a source the bundle lacks (another network namespace, a backend not collected): `ip netns list`, `nft list ruleset`, `iptables-legacy-save`",
        "a component that needs conntrack without rules: Open vSwitch ct actions, IPVS (ip_vs conntrack=1), flowtables (`lsmod | grep nf_conntrack` Used by)",
        "docker, kube-proxy or libvirt about to start on this host",
      ],
      metrics,
      ...(firstSeen ? { firstSeen } : {}),
      ...(firstFull?.wallTime ? { lastSeen: full[full.length - 1]?.wallTime ?? firstFull.wallTime } : {}),
      fixes,
    },
  ];
}
