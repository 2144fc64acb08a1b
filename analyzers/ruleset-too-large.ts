/**
 * ruleset-too-large: the rule set is so big that the kernel cannot allocate it (x_tables blob,
 * "Memory allocation problem", vmalloc / page allocation failures through xt_alloc_table_info),
 * or so big that restores take seconds. Seeds 000 and 002; kernel-facts.md §1.11; lab-notes
 * (200,000 rules: restore 5.0 s nft / 0.8 s legacy, save 12.6 s nft / 0.36 s legacy).
 */
import { Confidence } from "../src/engine/confidence.js";
import {
  type ConsolidationGroup,
  type RuleSetStats,
  iptablesCommand,
  nextPow2,
  primaryLiveStats,
  ruleEvidence,
  ruleSetStats,
  shq,
} from "../src/engine/lib/ruleset-stats.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";
import type { KernelEvent } from "../src/facts/facts.js";
import type { KlogClass, KlogMessage } from "../src/parsers/kernel-log.js";
import { compareKernel } from "../src/parsers/kernel-version.js";

type Ev<C extends KlogClass> = Extract<KlogMessage, { class: C }> & KernelEvent;

const ID = "ruleset-too-large";
const TOOL_COMM = /^(ip6?tables|iptables-restor|ip6tables-resto|xtables|ebtables|arptables|firewalld|nft|ipset|kube-proxy|netfilter-pers)/i;
const XT_SYMBOLS = new Set(["xt_alloc_table_info", "do_ipt_set_ctl", "do_ip6t_set_ctl", "nf_setsockopt"]);

/** Rule count from which a rule set counts as large. */
export const LARGE_RULES = 10_000;
export const NOTABLE_RULES = 1_000;

interface MemorySignals {
  oomKills: Ev<"oom-kill">[];
  memcgs: string[];
  enomem: KernelEvent[];
  allocFailures: Ev<"alloc-failure">[];
  traces: Ev<"alloc-trace">[];
  restoreFailures: Ev<"ipt-restore-failed">[];
}

function memorySignals(facts: Facts): MemorySignals {
  const traces = facts.kernelEvents("alloc-trace").filter((m) => XT_SYMBOLS.has(m.fields.symbol));
  const nearTrace = (m: KernelEvent): boolean =>
    traces.some((t) => t.provenance.path === m.provenance.path && t.provenance.line > m.provenance.line && t.provenance.line - m.provenance.line <= 60);
  const allocFailures = facts.kernelEvents("alloc-failure").filter((m) => TOOL_COMM.test(m.fields.comm ?? "") || nearTrace(m));
  const enomem = [
    ...facts.kernelEvents("ipt-enomem"),
    ...facts.kernelEvents("ipt-table-init").filter((m) => /Memory allocation problem/.test(m.fields.reason)),
  ];
  // The OOM killer (often a memory cgroup's) stopping the firewall tool while it loads a table.
  const oomKills = facts.kernelEvents("oom-kill").filter((m) => TOOL_COMM.test(m.fields.comm ?? ""));
  // `oom-kill:constraint=CONSTRAINT_MEMCG,…,oom_memcg=/fw-32M,…` is the line before the kill (not a kept class).
  const memcgs = [
    ...new Set(
      oomKills
        .flatMap((k) => [1, 2].map((d) => facts.lineText(k.provenance.path, k.provenance.line - d) ?? ""))
        .map((t) => /oom_memcg=([^,\s]+)/.exec(t)?.[1])
        .filter((x): x is string => !!x && x !== "/"),
    ),
  ];
  const memory = allocFailures.length + traces.length + enomem.length + oomKills.length > 0;
  const restoreFailures = memory ? facts.kernelEvents("ipt-restore-failed") : [];
  return { oomKills, memcgs, enomem, allocFailures, traces, restoreFailures };
}

function mechanismFor(facts: Facts, biggest: RuleSetStats | undefined, failedBytes: number | undefined): string {
  const k = facts.kernel?.value;
  const cpus = facts.cpuCount;
  const parts: string[] = [];
  parts.push(
    "With the legacy (x_tables) backend, iptables-restore hands the kernel each table as one blob through setsockopt (do_ipt_set_ctl → xt_alloc_table_info); the kernel must allocate the whole table in one piece, so a table of tens of thousands of rules needs megabytes of contiguous or vmalloc memory at once, and every change to any rule rewrites the whole table.",
  );
  if (k) {
    if (compareKernel(k, "4.2") < 0) {
      parts.push(
        `On this ${k.raw} kernel (≤ 4.1) x_tables keeps one copy of the blob per possible CPU (memory = blob × nCPU${cpus ? `, ${cpus} CPUs here → ${cpus} copies` : ""}${failedBytes && cpus ? `: ${fmtBytes(failedBytes)} × ${cpus} = ${fmtBytes(failedBytes * cpus)}` : ""}), and 3.10–4.9 refuse a table larger than total RAM pages.`,
      );
    } else if (compareKernel(k, "4.14") < 0) {
      parts.push(`On this ${k.raw} kernel (4.2–4.13) there is one copy of the blob, allocated with kmalloc (__GFP_NORETRY) then vmalloc; 3.10–4.9 refuse a table larger than total RAM pages.`);
    } else if (compareKernel(k, "4.19") < 0) {
      parts.push(`On this ${k.raw} kernel (4.14–4.18) the blob is one kvmalloc(GFP_KERNEL | __GFP_NORETRY) allocation, capped at XT_MAX_TABLE_SIZE = 512 MiB.`);
    } else {
      parts.push(
        `On this ${k.raw} kernel (4.19+) the blob is allocated with kvmalloc(GFP_KERNEL_ACCOUNT): it is charged to the memory cgroup of the process running iptables-restore, so a container or systemd-unit memory limit can make the restore fail with ENOMEM ("Memory allocation problem") although the host has free memory; the table is also capped at XT_MAX_TABLE_SIZE = 512 MiB.`,
      );
    }
  }
  if (biggest?.backend === "nf_tables")
    parts.push(
      "These rules use the nf_tables backend (iptables-nft): there is no single blob, but each rule is a separate kernel object and iptables-nft is slow at this size (lab, 200,000 rules: restore 5.0 s with nft vs 0.8 s legacy, save 12.6 s vs 0.36 s); every rule is still evaluated in sequence for each packet that reaches the chain.",
    );
  else parts.push("Rules in a chain are evaluated one after the other for every packet that reaches the chain, so N single-address rules cost N comparisons per packet; one ipset or nft set lookup costs one hash lookup.");
  return parts.join(" ");
}

function fmtBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

function setName(chain: string): string {
  return `nfdiag-${chain.toLowerCase().replace(/[^a-z0-9_-]/g, "-")}`.slice(0, 31);
}

function consolidationFix(facts: Facts, g: ConsolidationGroup, saved: boolean): DetectedFinding["fixes"][number] {
  const n = g.rules.length;
  const addrs = g.rules.map((r) => (g.field === "source" ? r.source : r.destination) ?? "");
  const dir = g.field === "source" ? "src" : "dst";
  const flag = g.field === "source" ? "-s" : "-d";
  const maxelem = Math.max(65536, nextPow2(n * 2));
  const hashsize = Math.max(1024, nextPow2(Math.ceil(n / 4)));
  const ipv6 = g.family === "ipv6";
  const first = addrs.slice(0, 5);
  if (g.kind === "nft") {
    const [family, table] = g.table.split(" ") as [string, string];
    const name = setName(g.chain).replace(/-/g, "_");
    const sel = g.shape.match(/ip6? [sd]addr/)?.[0] ?? (ipv6 ? "ip6 saddr" : "ip saddr");
    const rule = g.shape.replace(/ip6? [sd]addr <ADDR>/, `${sel} @${name}`);
    return {
      title: `Replace ${n} single-address rules in ${g.table} ${g.chain} by one nft set`,
      rationale: `${n} rules of chain ${g.chain} differ only by their ${g.field} address (${first.join(", ")}…); one set lookup replaces ${n} sequential comparisons.`,
      commands: [
        `nft add set ${family} ${table} ${name} '{ type ${ipv6 ? "ipv6_addr" : "ipv4_addr"}; flags interval; }'`,
        `nft add element ${family} ${table} ${name} '{ ${first.join(", ")} }'`,
        `# … and the other ${n - first.length} addresses: nft -a list chain ${family} ${table} ${g.chain} | awk '/${sel} [0-9a-fA-F.:\\/]+ /{for(i=1;i<NF;i++) if($i" "$(i+1)=="${sel}") print $(i+2)}' | paste -sd, | xargs -I{} nft add element ${family} ${table} ${name} '{ {} }'`,
        `nft insert rule ${family} ${table} ${g.chain} ${rule}`,
        `# then delete the ${n} old rules by handle (nft -a list chain ${family} ${table} ${g.chain} shows them)`,
      ],
      persist: [`nft list ruleset > /etc/nftables.conf   # the set and its elements are saved with the rules`],
      verify: [`nft list set ${family} ${table} ${name} | grep -c ,   # about ${n} elements`, `nft list chain ${family} ${table} ${g.chain} | wc -l   # about ${n} lines fewer`],
      rollback: [`nft -f /root/nftables.before   # save it first: nft list ruleset > /root/nftables.before`],
      risk: "medium: the chain is rewritten; keep a copy of the rule set and apply during a quiet period.",
      cureLikelihood: 0.8,
    };
  }
  const ipt = iptablesCommand(g.origin, g.family);
  const save = `${ipt}-save`;
  const restore = `${ipt}-restore`;
  const name = setName(g.chain);
  const target = g.target ?? "DROP";
  const ruleShape = g.kind === "save" ? g.shape : `${flag} <ADDR> -j ${target}`;
  const setRule = ruleShape.replace(new RegExp(`(^|\\s)${flag} <ADDR>`), `$1-m set --match-set ${name} ${dir}`).trim();
  const grepShape = `^-A ${g.chain} ${ruleShape.replace(/[.[\]*^$\\/+?()|{}]/g, "\\$&").replace(`${flag} <ADDR>`, `${flag} [0-9a-fA-F.:/]+`)}$`;
  const awkField = `'$1=="-A" && $2=="${g.chain}" {for(i=3;i<NF;i++) if($i=="${flag}") print "add ${name} " $(i+1)}'`;
  const familyOpt = ipv6 ? "family inet6 " : "family inet ";
  const persistFile = facts.distroFamily === "rhel" ? "/etc/sysconfig/ipset" : "/etc/iptables/ipsets";
  const rulesFile = facts.distroFamily === "rhel" ? (ipv6 ? "/etc/sysconfig/ip6tables" : "/etc/sysconfig/iptables") : ipv6 ? "/etc/iptables/rules.v6" : "/etc/iptables/rules.v4";
  return {
    title: `Replace ${n} single-address rules in ${g.table}/${g.chain} by one ipset`,
    rationale: `${n} rules of chain ${g.chain} (table ${g.table}) differ only by their ${g.field} address (${first.join(", ")}…) and all ${target === g.target ? `jump to ${target}` : "share the same action"}: one hash:net set and one rule \`${setRule}\` match the same packets with one lookup instead of ${n} comparisons${saved ? "; the saved rules file loaded at boot has the same rules" : ""}.`,
    commands: [
      `${save} > /root/nfdiag-rules.before`,
      `ipset create ${name} hash:net ${familyOpt}hashsize ${hashsize} maxelem ${maxelem}`,
      ...first.map((a) => `ipset add ${name} ${a}`),
      `# … and the other ${n - first.length} addresses, taken from the rules themselves:`,
      `${save} -t ${g.table} | awk ${awkField} | ipset -exist restore`,
      `${ipt} -t ${g.table} -I ${g.chain} 1 ${setRule}`,
      ...(g.kind === "list" && /\S/.test(g.rules[0]?.spec.split("# listing:")[1] ?? "") ? [`# review: the listing shows more matches on these rules (${g.rules[0]!.spec.split("# listing: ")[1]}); adapt the pattern below to iptables-save's text`] : []),
      `${save} | grep -v -E ${shq(grepShape)} > /root/nfdiag-rules.new   # every rule but the ${n} single-address ones`,
      `${restore} < /root/nfdiag-rules.new`,
    ],
    persist: [
      `ipset save > ${persistFile}   # must be loaded before the rules at boot (${facts.distroFamily === "rhel" ? "ipset-service" : "ipset-persistent / netfilter-persistent"})`,
      `${save} > ${rulesFile}`,
    ],
    verify: [
      `ipset list ${name} -t | grep 'Number of entries'   # ${n}`,
      `${save} -t ${g.table} | grep -c '^-A ${g.chain} '   # was ${n}+, now a handful`,
      `${ipt} -t ${g.table} -nvL ${g.chain} 1   # the set rule, its counters rising`,
    ],
    rollback: [`${restore} < /root/nfdiag-rules.before`, `ipset destroy ${name}`],
    risk: "medium: the chain is rewritten in one restore; rules added between the save and the restore are lost — apply when nothing else edits the firewall, and keep /root/nfdiag-rules.before.",
    cureLikelihood: 0.8,
  };
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "Rule set too large",
    category: "rules",
    defaultSeverity: "medium",
    docs: {
      description:
        "Finds rule sets so large that the kernel cannot allocate them (\"Memory allocation problem\", vmalloc/page allocation failures through xt_alloc_table_info) or that make every restore and every packet slow, counts rules and chains per rule set, and finds the rules that differ only by one address (to be replaced by one ipset or nft set), duplicate rules and user chains nothing jumps to.",
      mechanism:
        "Legacy iptables loads a whole table as one blob (xt_alloc_table_info): ≤ 4.1 one copy per CPU, 4.14+ capped at 512 MiB, 4.19+ charged to the caller's memory cgroup (container limits). Every rule of a chain is evaluated in sequence; thousands of single-address rules are better served by one set lookup.",
      signals: [
        "ipt-enomem: `iptables: Memory allocation problem.` / `can't initialize iptables table `X': Memory allocation problem` (syslog, journal)",
        "alloc-failure: `<comm>: vmalloc: allocation failure, allocated A of B bytes` (4.9–5.4), `vmalloc error: size …` (5.15+), `page allocation failure: order:N` by iptables or followed by an xt_alloc_table_info trace",
        "alloc-trace: `xt_alloc_table_info+0x…`, `do_ipt_set_ctl+0x…` in a call trace",
        "ipt-restore-failed: `iptables-restore: line N failed` when a memory signal is present",
        "rule and chain counts of each rule set (iptables-save, listings, nft, saved rules files)",
        "groups of rules identical but for one -s/-d address; duplicate rules; user chains with no reference",
      ],
      references: ["kernel-facts.md §1.11", "seed 000 (iptables service memory allocation)", "seed 002", "lab-notes.md: 200,000-rule restore/save times"],
    },
    explains: ["iptables-restore-failed", "conntrack-memory-pressure"],
  },

  detect(facts) {
    const mem = memorySignals(facts);
    const memoryHit = mem.enomem.length + mem.allocFailures.length + mem.traces.length + mem.oomKills.length > 0;
    const all = ruleSetStats(facts);
    const live = primaryLiveStats(facts);
    const candidates = [...live, ...all.filter((s) => !s.live)];
    const biggest = candidates.slice().sort((a, b) => b.rules - a.rules)[0];
    const biggestRules = biggest?.rules ?? 0;
    const liveOrigin = (g: ConsolidationGroup) => (g.origin === "saved-rules" || g.origin === "saved-nft-rules" ? 1 : 0);
    const groups = candidates.flatMap((s) => s.groups).sort((a, b) => liveOrigin(a) - liveOrigin(b) || b.rules.length - a.rules.length);
    // One group per chain shape: a saved file and the live view of the same rules give the same group.
    const seen = new Set<string>();
    const uniqGroups = groups.filter((g) => {
      const k = `${g.family}|${g.table}|${g.chain}|${g.field}|${g.shape}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const bigGroup = uniqGroups[0];
    const unreferenced = live.flatMap((s) => s.unreferencedChains.map((c) => ({ ...c, stats: s })));
    const duplicates = live.flatMap((s) => s.duplicates.map((d) => ({ ...d, stats: s })));
    const dupExtra = duplicates.reduce((n, d) => n + d.rules.length - 1, 0);

    if (!memoryHit && biggestRules < NOTABLE_RULES && (bigGroup?.rules.length ?? 0) < 100) return [];

    const evidence: Evidence[] = [];
    for (const m of mem.oomKills.filter((x) => x.fields.kind === "killed").slice(0, 3)) evidence.push(facts.eventEvidence(m, m.text.includes("Memory cgroup") ? "Memory cgroup out of memory" : "Kill", `the OOM killer stopped ${m.fields.comm} while it loaded the rules${m.text.includes("Memory cgroup") ? " (memory cgroup limit)" : ""}`));
    for (const m of mem.enomem.slice(0, 3)) evidence.push(facts.eventEvidence(m, "Memory allocation problem", "iptables got ENOMEM from the kernel"));
    for (const m of mem.allocFailures.slice(0, 3))
      evidence.push(facts.eventEvidence(m, m.fields.kind === "vmalloc" ? (m.text.includes("vmalloc error") ? "vmalloc error" : "vmalloc: allocation failure") : "page allocation failure", "kernel allocation failure in the firewall tool's context"));
    for (const m of mem.traces.filter((t) => !t.text.includes("? ")).slice(0, 2)) evidence.push(facts.eventEvidence(m, m.fields.symbol, "call trace through the x_tables table allocation"));
    for (const m of mem.restoreFailures.slice(0, 2)) evidence.push(facts.eventEvidence(m, `line ${m.fields.lineNo}`, "the restore stopped at this line"));
    if (biggest && biggest.raw.length > 0) {
      const r0 = biggest.raw[0]!;
      evidence.push(ruleEvidence(facts, r0, `${biggest.rules.toLocaleString("en-US")} rules in ${biggest.chains} chains in this ${biggest.live ? "live rule set" : "saved rules file"} (${biggest.origin})`));
    }
    if (bigGroup) {
      const a = bigGroup.rules[0]!;
      const z = bigGroup.rules[bigGroup.rules.length - 1]!;
      evidence.push(ruleEvidence(facts, a, `first of ${bigGroup.rules.length} rules in ${bigGroup.chain} that differ only by the ${bigGroup.field} address`, a[bigGroup.field]));
      if (z !== a) evidence.push(ruleEvidence(facts, z, `last of the ${bigGroup.rules.length}`, z[bigGroup.field]));
    }
    for (const u of unreferenced.slice(0, 3)) evidence.push(facts.evidence(u.stats.origin, { path: u.path, line: u.line }, `:${u.chain}`, { note: `user chain ${u.chain} (${u.table}): no rule jumps to it`, highlight: u.chain }));
    for (const d of duplicates.slice(0, 2)) evidence.push(ruleEvidence(facts, d.rules[1]!, `duplicate of line ${d.rules[0]!.line}: ${d.rules.length} identical rules in ${d.chain}`));

    const failedBytes = mem.allocFailures.map((m) => m.fields.size).find((s): s is number => typeof s === "number");
    let severity: DetectedFinding["severity"];
    if (memoryHit && (mem.enomem.length > 0 || mem.restoreFailures.length > 0 || mem.oomKills.some((k) => k.fields.kind === "killed"))) severity = "critical";
    else if (memoryHit) severity = "high";
    else if (biggestRules >= LARGE_RULES || (bigGroup?.rules.length ?? 0) >= 1000) severity = "medium";
    else severity = "low";

    const conf = new Confidence(memoryHit ? 0.6 : 0.5, memoryHit ? "kernel or iptables reported a failed allocation while loading rules" : "rule count from the rule set itself");
    if (memoryHit && biggestRules >= NOTABLE_RULES) conf.add(0.2, `the rule set is large (${biggestRules} rules): the allocation is explained by its size`);
    if (memoryHit && biggestRules < NOTABLE_RULES && biggestRules > 0) conf.add(-0.2, `the rule set seen here is small (${biggestRules} rules): the failure may come from general memory pressure`);
    if (memoryHit && biggestRules === 0) conf.add(-0.1, "no rule listing with rules in the bundle: the size cannot be confirmed");
    if (mem.traces.length > 0) conf.add(0.1, "call trace names xt_alloc_table_info/do_ipt_set_ctl");
    if (mem.memcgs.length > 0) conf.add(0.05, `the OOM kills were confined to memory cgroup${mem.memcgs.length > 1 ? "s" : ""} ${mem.memcgs.join(", ")}`);
    if (!memoryHit && biggestRules >= LARGE_RULES) conf.add(0.2, `${biggestRules} rules is far beyond a hand-written firewall`);
    if (bigGroup && bigGroup.rules.length >= 100) conf.add(0.15, `${bigGroup.rules.length} rules differ only by one address: a set would replace them`);
    for (const s of candidates) {
      const st = facts.status(s.origin as Parameters<Facts["status"]>[0]);
      if (st?.status === "truncated") {
        conf.add(-0.1, `${s.origin} was truncated in the bundle: counts are a lower bound`);
        break;
      }
    }

    const metrics: DetectedFinding["metrics"] = {
      rules: biggestRules,
      chains: biggest?.chains ?? 0,
      userChains: biggest?.userChains ?? 0,
      ruleSet: biggest ? `${biggest.origin}:${biggest.path}` : null,
      backend: biggest?.backend ?? null,
      consolidationGroups: uniqGroups.length,
      largestGroup: bigGroup?.rules.length ?? 0,
      largestGroupChain: bigGroup ? `${bigGroup.table}/${bigGroup.chain}` : null,
      unreferencedChains: unreferenced.length,
      duplicateRules: dupExtra,
      allocationFailures: mem.allocFailures.length,
      enomemMessages: mem.enomem.length,
      xtAllocTraces: mem.traces.length,
      oomKills: mem.oomKills.filter((k) => k.fields.kind === "killed").length,
      memoryCgroups: mem.memcgs.join(",") || null,
      failedAllocationBytes: failedBytes ?? null,
      cpus: facts.cpuCount ?? null,
    };
    for (const s of candidates.slice(0, 8)) metrics[`rules:${s.origin}${s.netns ? `@${s.netns}` : ""}`] = s.rules;

    const fixes: DetectedFinding["fixes"] = [];
    for (const g of uniqGroups.slice(0, 3)) fixes.push(consolidationFix(facts, g, all.some((s) => !s.live && s.groups.some((x) => x.chain === g.chain))));
    if (unreferenced.length > 0) {
      const u = unreferenced.slice(0, 20);
      fixes.push({
        title: `Delete ${unreferenced.length} user chain${unreferenced.length > 1 ? "s" : ""} no rule jumps to`,
        rationale: `${u.map((c) => `${c.table}/${c.chain}`).join(", ")} ${unreferenced.length > 1 ? "are" : "is"} never reached: ${unreferenced.length > 1 ? "their" : "its"} rules cost memory and restore time for nothing.`,
        commands: u.flatMap((c) => {
          if (c.stats.kind === "nft") {
            const [fam, tab] = c.table.split(" ");
            return [`nft flush chain ${fam} ${tab} ${c.chain}`, `nft delete chain ${fam} ${tab} ${c.chain}`];
          }
          const ipt = iptablesCommand(c.stats.origin, c.stats.family);
          return [`${ipt} -t ${c.table} -F ${c.chain}`, `${ipt} -t ${c.table} -X ${c.chain}`];
        }),
        persist: ["save the rule set the way this host loads it at boot (netfilter-persistent save / service iptables save / nft list ruleset > /etc/nftables.conf)"],
        verify: u.slice(0, 3).map((c) => (c.stats.kind === "nft" ? `nft list chain ${c.table} ${c.chain}   # Error: No such file or directory` : `${iptablesCommand(c.stats.origin, c.stats.family)} -t ${c.table} -nL ${c.chain}   # No chain/target/match by that name`)),
        rollback: ["restore the saved rule set taken before the change"],
        risk: "low: nothing jumps to these chains; check that no script adds a jump to them later.",
        cureLikelihood: 0.2,
      });
    }
    if (dupExtra > 0) {
      const cmds = duplicates.slice(0, 10).flatMap((d) => {
        const r = d.rules[0]!;
        if (r.kind !== "save") return [`# ${d.chain}: ${d.rules.length} identical rules (lines ${d.rules.map((x) => x.line).join(", ")}); delete all but one`];
        const ipt = iptablesCommand(r.origin, r.family);
        const body = r.spec.replace(/^-A \S+\s*/, "");
        return d.rules.slice(1).map(() => `${ipt} -t ${d.table} -D ${d.chain} ${body}`);
      });
      fixes.push({
        title: `Delete ${dupExtra} duplicate rule${dupExtra > 1 ? "s" : ""}`,
        rationale: "A second identical rule in the same chain never changes the verdict (the first one already matched); it only costs evaluation time and memory.",
        commands: cmds,
        persist: ["save the rule set the way this host loads it at boot"],
        verify: ["the rule appears once in iptables-save"],
        rollback: ["re-add the rule with -A"],
        risk: "low: each command deletes one copy; one copy stays.",
        cureLikelihood: 0.1,
      });
    }
    if (memoryHit && facts.kernel && compareKernel(facts.kernel.value, "4.19") >= 0) {
      fixes.splice(mem.memcgs.length ? 0 : fixes.length, 0, {
        title: mem.memcgs.length ? `Raise the memory limit of cgroup ${mem.memcgs.join(", ")} that loads the rules` : "Check the memory cgroup limit of the service that restores the rules",
        rationale: `Since 4.19 the table allocation is charged to the caller's memory cgroup: a firewall service or container with a memory limit fails with ENOMEM or is OOM-killed while the host still has memory.${mem.memcgs.length ? ` Here the OOM killer acted inside ${mem.memcgs.join(", ")}.` : ""} Shrinking the rule set (the ipset fix) removes the need; raising the limit is the quick fix.`,
        commands: [
          ...mem.memcgs.map((c) => `cat /sys/fs/cgroup${c}/memory.max /sys/fs/cgroup${c}/memory.peak 2>/dev/null   # the limit and what the restore needed`),
          "systemctl show -p MemoryMax,MemoryHigh netfilter-persistent.service iptables.service 2>/dev/null",
        ],
        persist: ["raise MemoryMax in a drop-in (systemctl edit <unit>) or the container's memory limit, if one is set"],
        verify: ["iptables-restore succeeds without `Memory allocation problem`"],
        rollback: ["remove the drop-in"],
        risk: "low",
        cureLikelihood: 0.4,
      });
    }
    if (biggestRules >= LARGE_RULES && biggest?.kind !== "nft")
      fixes.push({
        title: "Move the large lists to native nftables sets",
        rationale: `With ${biggestRules.toLocaleString("en-US")} rules, per-rule iptables is the wrong tool: nftables sets (or ipset with either backend) keep the list in a hash and update it without rewriting the table.`,
        commands: [`${iptablesCommand(biggest?.origin ?? "iptables-save", biggest?.family ?? "ipv4")}-save > /root/rules.before`, "iptables-restore-translate -f /root/rules.before > /root/ruleset.nft   # review: turn long address lists into sets"],
        persist: ["/etc/nftables.conf with `nft -f` at boot (nftables.service)"],
        verify: ["nft list ruleset | wc -l"],
        rollback: ["iptables-restore < /root/rules.before"],
        risk: "high: a migration of the whole firewall; test first.",
        cureLikelihood: 0.6,
      });

    const times = [...mem.enomem, ...mem.allocFailures, ...mem.traces, ...mem.restoreFailures].map((m) => m.wallTime).filter((t): t is string => !!t).sort();
    const where = biggest ? `${biggest.live ? "live" : "saved"} rule set ${biggest.path.split("/").slice(1).join("/")}` : "the rule set";
    const summaryParts: string[] = [];
    if (memoryHit)
      summaryParts.push(
        `Loading the firewall failed for lack of kernel memory (${[mem.oomKills.some((k) => k.fields.kind === "killed") ? `${mem.oomKills.filter((k) => k.fields.kind === "killed").length} OOM kill${mem.oomKills.filter((k) => k.fields.kind === "killed").length > 1 ? "s" : ""} of ${mem.oomKills[0]!.fields.comm}${mem.memcgs.length ? ` in memory cgroup ${mem.memcgs.join(", ")}` : ""}` : "", mem.enomem.length ? `${mem.enomem.length}× "Memory allocation problem"` : "", mem.allocFailures.length ? `${mem.allocFailures.length} allocation failure${mem.allocFailures.length > 1 ? "s" : ""}${failedBytes ? ` of ${fmtBytes(failedBytes)}` : ""}` : "", mem.traces.length ? "trace through xt_alloc_table_info" : ""].filter(Boolean).join(", ")}).`,
      );
    if (biggestRules > 0) summaryParts.push(`The ${where} has ${biggestRules.toLocaleString("en-US")} rules in ${biggest?.chains ?? 0} chains.`);
    if (bigGroup) summaryParts.push(`${bigGroup.rules.length.toLocaleString("en-US")} rules in ${bigGroup.chain} differ only by the ${bigGroup.field} address: one ipset${bigGroup.kind === "nft" ? "/nft set" : ""} would replace them.`);
    if (unreferenced.length) summaryParts.push(`${unreferenced.length} user chain${unreferenced.length > 1 ? "s are" : " is"} never jumped to.`);
    if (dupExtra) summaryParts.push(`${dupExtra} duplicate rule${dupExtra > 1 ? "s" : ""}.`);

    return [
      {
        severity,
        ...conf.toFinding(),
        summary: summaryParts.join(" "),
        mechanism:
          mechanismFor(facts, biggest, failedBytes) +
          (mem.oomKills.length
            ? ` Here the OOM killer stopped ${mem.oomKills[0]!.fields.comm}${mem.memcgs.length ? ` inside memory cgroup ${mem.memcgs.join(", ")}` : ""} while the table was being allocated${mem.traces.length ? " (the call trace goes through xt_alloc_table_info)" : ""}, so the restore was killed and the table not loaded.`
            : ""),
        evidence,
        ruledOutBy: [
          "the allocation failures name another process and no firewall tool ran at that time (then see conntrack-memory-pressure / general memory pressure)",
          "the large rule set is generated by a controller (kube-proxy, a blocklist service) that is expected to hold this many rules and restores succeed quickly",
        ],
        metrics,
        ...(times[0] ? { firstSeen: times[0] } : {}),
        ...(times.length ? { lastSeen: times[times.length - 1]! } : {}),
        fixes,
      },
    ];
  },
};
