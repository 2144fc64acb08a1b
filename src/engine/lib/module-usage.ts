/**
 * Module and conntrack-usage helpers shared by the module analyzers (conntrack-loaded-unused,
 * conntrack-module-blocked, missing-extension-module, conntrack-sysctl-not-applied,
 * conntrack-insert-race, conntrack-invalid-drops): how we know nf_conntrack is loaded, who holds
 * it (lsmod users → `modprobe -r` order), which rule sources are covered, where a bundle file lives
 * on the host, which package carries a distro's extra modules, and a few kernel-era facts
 * (kernel-facts.md §2.1, §5).
 */
import type { Facts } from "../../facts/facts.js";
import { atLeast } from "../../parsers/kernel-version.js";
import type { Evidence } from "../../report/schema.js";
import { type UnifiedRule, liveRules, ruleSets } from "./rulesets.js";

/** Module names of the conntrack core across eras (nf_conntrack_ipv4/6 existed up to 4.18; ip_conntrack ≤ 2.6.2x). */
export const CONNTRACK_CORE = ["nf_conntrack", "nf_conntrack_ipv4", "nf_conntrack_ipv6", "ip_conntrack"] as const;

/** Users of nf_conntrack that track packets without any firewall rule. */
export const RULELESS_CONNTRACK_USERS = ["openvswitch", "ip_vs", "nf_flow_table", "act_ct", "act_connmark", "nft_flow_offload", "br_netfilter"] as const;

/** Modules that are just the chain a table listing pulls in (seed 001): holders that imply no use. */
const LISTING_CHAIN = new Set([
  "iptable_nat", "ip6table_nat", "nf_nat", "nf_nat_ipv4", "nf_nat_ipv6", "nf_conntrack_ipv4", "nf_conntrack_ipv6",
  "nf_defrag_ipv4", "nf_defrag_ipv6", "nf_conntrack_netlink", "nf_nat_masquerade_ipv4", "nf_nat_masquerade_ipv6",
]);

export interface ConntrackPresence {
  /** Loaded as a module (a listing names it), or only inferred (banner, params, sysctls) when no listing exists. */
  state: "module" | "inferred" | "builtin" | "absent";
  evidence: Evidence[];
  /** Loaded modules that hold nf_conntrack (lsmod "Used by"), excluding the listing chain. */
  otherUsers: string[];
  /** All holders (transitively) of the conntrack core. */
  holders: string[];
  /** Holders that are rule extensions (xt_*, nft_*, ipt_*) with a use count > 0: some rule references them now. */
  ruleModulesInUse: string[];
}

/** Holders (lsmod "Used by") per loaded module, from the first module listing that has it. */
export function moduleUsers(facts: Facts): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of ["proc-modules", "lsmod"] as const)
    for (const p of facts.sources(id)) for (const m of p.value.modules) if (!out.has(m.name)) out.set(m.name, m.users);
  return out;
}

/** How we know conntrack is there, with evidence. */
export function conntrackPresence(facts: Facts): ConntrackPresence {
  const evidence: Evidence[] = [];
  const loaded = facts.loadedModules;
  const builtin = facts.builtinModules.has("nf_conntrack") || facts.moduleSupport === "none";
  const users = moduleUsers(facts);
  let state: ConntrackPresence["state"] = "absent";
  if (loaded) {
    for (const name of CONNTRACK_CORE) {
      const ev = loaded.get(name);
      if (ev) {
        evidence.push({ ...ev, note: `${name} is loaded as a module` });
        state = "module";
      }
    }
  }
  if (state === "absent" && builtin) state = "builtin";
  // Load banners (≤ 4.14) say when it was loaded.
  for (const m of facts.kernelEvents("ct-banner").slice(0, 2))
    evidence.push(facts.eventEvidence(m, `${m.fields.module} version`, `load banner of ${m.fields.module}: ${m.fields.buckets} buckets, max ${m.fields.max}`));
  const params = facts.sources("nf-conntrack-params").find((p) => p.value.name === "hashsize");
  const max = facts.conntrack.max;
  if (state === "absent" && !loaded) {
    if (evidence.length > 0 || params || max) state = "inferred";
  }
  if (state !== "absent" && state !== "builtin") {
    if (params) evidence.push(facts.evidence("nf-conntrack-params", params.value.provenance, params.value.raw ?? "", { note: "/sys/module/nf_conntrack exists: the module is in the kernel" }));
    else if (max) evidence.push({ ...max.evidence, note: "conntrack sysctls exist only while nf_conntrack is in the kernel" });
  }
  const holders = new Set<string>();
  const visit = (name: string) => {
    for (const u of users.get(name) ?? [])
      if (!holders.has(u)) {
        holders.add(u);
        visit(u);
      }
  };
  for (const c of CONNTRACK_CORE) if (users.has(c)) visit(c);
  for (const c of CONNTRACK_CORE) holders.delete(c);
  const otherUsers = [...holders].filter((h) => !LISTING_CHAIN.has(h));
  const useCount = new Map<string, number | null>();
  for (const id of ["proc-modules", "lsmod"] as const) for (const p of facts.sources(id)) for (const m of p.value.modules) if (!useCount.has(m.name)) useCount.set(m.name, m.useCount);
  const ruleModulesInUse = [...holders].filter((h) => /^(xt_|nft_|ipt_|ip6t_)/.test(h) && (useCount.get(h) ?? 0) > 0);
  return { state, evidence, otherUsers, holders: [...holders], ruleModulesInUse };
}

/**
 * `modprobe -r` order for a module and everything that holds it: every holder before the module
 * it holds (depth-first over lsmod "Used by"). Dependencies that become unused (nf_defrag_*,
 * libcrc32c) are removed by modprobe -r itself.
 */
export function unloadOrder(facts: Facts, root: string): string[] {
  const users = moduleUsers(facts);
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    seen.add(name);
    for (const u of users.get(name) ?? []) visit(u);
    out.push(name);
  };
  // Era modules under the root: nf_conntrack_ipv4/6 hold nf_conntrack on ≤ 4.18.
  visit(root);
  return out.filter((m) => users.has(m) || m === root);
}

/** Direct dependencies between netfilter modules (modules.dep, all eras merged). */
export const MODULE_DEPENDS: Record<string, readonly string[]> = {
  iptable_nat: ["nf_nat", "ip_tables"],
  ip6table_nat: ["nf_nat", "ip6_tables"],
  nf_nat: ["nf_conntrack"],
  nf_nat_ipv4: ["nf_nat", "nf_conntrack_ipv4"],
  nf_nat_ipv6: ["nf_nat", "nf_conntrack_ipv6"],
  nf_conntrack_ipv4: ["nf_conntrack", "nf_defrag_ipv4"],
  nf_conntrack_ipv6: ["nf_conntrack", "nf_defrag_ipv6"],
  nf_conntrack: ["nf_defrag_ipv4", "nf_defrag_ipv6"],
  nf_conntrack_netlink: ["nf_conntrack", "nfnetlink"],
  xt_conntrack: ["nf_conntrack", "x_tables"],
  xt_state: ["nf_conntrack", "x_tables"],
  xt_nat: ["nf_nat", "x_tables"],
  xt_MASQUERADE: ["nf_nat", "x_tables"],
  ipt_MASQUERADE: ["nf_nat_masquerade_ipv4", "x_tables"],
  nf_nat_masquerade_ipv4: ["nf_nat"],
  xt_REDIRECT: ["nf_nat", "x_tables"],
  xt_CT: ["nf_conntrack", "x_tables"],
  xt_connmark: ["nf_conntrack", "x_tables"],
  nft_ct: ["nf_conntrack", "nf_tables"],
  nft_nat: ["nf_nat", "nf_tables"],
  nft_chain_nat: ["nf_nat", "nf_tables"],
  nft_masq: ["nf_nat", "nf_tables"],
  nft_redir: ["nf_nat", "nf_tables"],
  nft_compat: ["nf_tables", "x_tables"],
  nf_tables: ["nfnetlink"],
  iptable_filter: ["ip_tables"],
  iptable_mangle: ["ip_tables"],
  iptable_raw: ["ip_tables"],
  ip_tables: ["x_tables"],
  ip6_tables: ["x_tables"],
  br_netfilter: ["bridge"],
};

export const NETFILTER_MODULE = /^(nf_|nft_|xt_|ipt_|ip6t_|iptable_|ip6table_|ip_tables$|ip6_tables$|x_tables$|nfnetlink|ip_set|ebt|ebtable|arpt|arptable|br_netfilter$|ip_conntrack)/;

export function moduleClosure(mods: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const visit = (m: string) => {
    if (out.has(m)) return;
    out.add(m);
    for (const d of MODULE_DEPENDS[m] ?? (m.startsWith("xt_") ? ["x_tables"] : m.startsWith("iptable_") ? ["ip_tables"] : [])) visit(d);
  };
  for (const m of mods) visit(m);
  return out;
}

/** Modprobe.d entries that stop a module or one of its dependencies from loading (install/alias off). */
export function blockedBy(facts: Facts, module: string): { module: string; how: string; provenance: { path: string; line: number } }[] {
  const deps = moduleClosure([module]);
  return facts
    .sources("modprobe-d")
    .flatMap((p) => p.value.disabled)
    .filter((d) => (d.blocksDependencyLoad || d.how === "alias-off") && deps.has(d.module));
}

/** Kernel ≤ 4.9: loading nf_conntrack(_ipv4) registers hooks in every netns and tracks every packet (kernel-facts §2.1). */
export function tracksEveryPacketOnLoad(facts: Facts): boolean | undefined {
  const k = facts.kernel?.value;
  if (!k) return undefined;
  return !atLeast(k, "4.10");
}

/** Whether the bundle shows every rule family that could hold rules. */
export function ruleCoverage(facts: Facts): { complete: boolean; missing: string[]; sources: string[] } {
  const sets = ruleSets(facts).filter((s) => s.live);
  const origins = new Set(sets.map((s) => s.origin));
  const missing: string[] = [];
  const loaded = facts.loadedModules;
  const notLoaded = (m: string) => loaded !== undefined && !loaded.has(m) && !facts.builtinModules.has(m);
  const hasX = ["iptables-save", "iptables-legacy-save", "iptables-nft-save", "iptables-list"].some((o) => origins.has(o as never));
  const hasNft = ["nft-ruleset", "nft-ruleset-json"].some((o) => origins.has(o as never));
  if (!hasX && !notLoaded("ip_tables")) missing.push("iptables (legacy) rules");
  if (!hasNft && !origins.has("iptables-nft-save") && !notLoaded("nf_tables")) missing.push("nftables rules");
  return { complete: missing.length === 0, missing, sources: [...new Set(sets.map((s) => s.path))] };
}

/** Live rules that need conntrack (stateful matches, NAT, CT, nft ct/nat), deduplicated by origin file and line. */
export function conntrackRules(facts: Facts): UnifiedRule[] {
  return liveRules(facts).filter((r) => r.needsConntrack);
}

/** The rule's own line as it stands in the bundle, or a reconstruction. */
export function ruleText(facts: Facts, r: UnifiedRule): string {
  const t = facts.lineText(r.path, r.line);
  if (t !== undefined && t.trim() !== "" && !t.trimStart().startsWith("{")) return t.trim();
  return `[${r.table}/${r.chain}] ${r.detail}${r.target ? ` -j ${r.target}` : ""}`.trim();
}

export function ruleEvidence(facts: Facts, r: UnifiedRule, note: string, highlight?: string): Evidence {
  const text = ruleText(facts, r);
  return {
    source: r.origin,
    path: r.path,
    line: r.line,
    text,
    ...(highlight && text.includes(highlight) ? { highlight } : {}),
    note,
  };
}

/** Host path of a bundle file: strip the bundle's top folder, and `files/` in the nfdiag layout. */
export function hostPath(bundlePath: string): string {
  const parts = bundlePath.split("/");
  let rest = parts.slice(1);
  if (rest[0] === "files") rest = rest.slice(1);
  if (parts.length === 1) rest = parts;
  return `/${rest.join("/")}`;
}

/** Command that installs the distro's package with extra kernel modules for the running kernel. */
export function extraModulesInstall(facts: Facts): { commands: string[]; note: string } {
  const k = facts.kernel?.value;
  const fam = facts.distroFamily;
  if (fam === "debian" && k?.distroHint === "ubuntu")
    return { commands: ["apt-get update", "apt-get install linux-modules-extra-$(uname -r)"], note: "Ubuntu ships the less common netfilter modules in linux-modules-extra-<release>" };
  if (fam === "debian")
    return { commands: ["apt-get install --reinstall linux-image-$(uname -r)"], note: "Debian ships every netfilter module in linux-image-<release>: a missing .ko means the package files were removed or the tree is damaged" };
  if (fam === "rhel") return { commands: ["dnf install kernel-modules-extra-$(uname -r)"], note: "RHEL/Fedora move less common modules to kernel-modules-extra" };
  if (fam === "suse") return { commands: ["zypper install kernel-default-extra"], note: "SUSE ships unsupported modules in kernel-default-extra (and needs allow_unsupported_modules 1)" };
  if (fam === "alpine") return { commands: ["apk add linux-$(uname -r | sed 's/.*-//')"], note: "Alpine kernels are flavoured packages (linux-lts, linux-virt)" };
  return { commands: ["# install the package that holds /lib/modules/$(uname -r)/kernel/net/netfilter for this kernel"], note: "distribution not identified" };
}

/** The package manager's initramfs rebuild, for modprobe.d changes that the initramfs carries. */
export function initramfsRebuild(facts: Facts): string {
  const fam = facts.distroFamily;
  if (fam === "rhel" || fam === "suse") return "dracut -f";
  if (fam === "alpine") return "mkinitfs";
  return "update-initramfs -u";
}

/** Kernel config option for a netfilter module name (best effort). */
export function kconfigFor(module: string): string | undefined {
  const xt = /^xt_(\w+)$/.exec(module);
  if (xt?.[1]) {
    const n = xt[1];
    const isTarget = n === n.toUpperCase();
    return `CONFIG_NETFILTER_XT_${isTarget ? "TARGET" : "MATCH"}_${n.toUpperCase()}`;
  }
  const ipt = /^ipt_(\w+)$/.exec(module);
  if (ipt?.[1]) {
    const n = ipt[1];
    return n === n.toUpperCase() ? `CONFIG_IP_NF_TARGET_${n}` : `CONFIG_IP_NF_MATCH_${n.toUpperCase()}`;
  }
  const table = /^iptable_(\w+)$/.exec(module);
  if (table?.[1]) return table[1] === "nat" ? "CONFIG_IP_NF_NAT" : `CONFIG_IP_NF_${table[1].toUpperCase()}`;
  const nft = /^nft_(\w+)$/.exec(module);
  if (nft?.[1]) return `CONFIG_NFT_${nft[1].toUpperCase()}`;
  const map: Record<string, string> = {
    nf_conntrack: "CONFIG_NF_CONNTRACK",
    nf_nat: "CONFIG_NF_NAT",
    ip_tables: "CONFIG_IP_NF_IPTABLES",
    x_tables: "CONFIG_NETFILTER_XTABLES",
    nf_tables: "CONFIG_NF_TABLES",
    ip_set: "CONFIG_IP_SET",
  };
  return map[module];
}

/** Whether the running kernel's module tree has a module: true/false from the on-disk list, undefined when no list. */
export function moduleOnDisk(facts: Facts, name: string): { onDisk: boolean; evidence?: Evidence; listPath: string } | undefined {
  const lists = facts.sources("modules-on-disk");
  if (lists.length === 0) return undefined;
  const running = facts.kernel?.value.raw;
  for (const l of lists) {
    const releases = l.value.kernelReleases;
    // The collector's list is relative to /lib/modules/$(uname -r): no release in the paths.
    if (releases.length > 0 && running && !releases.includes(running)) continue;
    const hit = l.value.modules.find((m) => m.name === name && (m.kernelRelease === null || !running || m.kernelRelease === running));
    if (hit) return { onDisk: true, evidence: facts.evidence("modules-on-disk", hit.provenance, hit.path, { highlight: name, note: `${name} is installed for the running kernel` }), listPath: l.path };
    if (l.value.modules.length > 0) return { onDisk: false, listPath: l.path };
  }
  return undefined;
}

/** Chains kube-proxy and docker create, seen in live rules. */
export function orchestratorHints(facts: Facts): { kube: UnifiedRule[]; docker: UnifiedRule[] } {
  const rules = liveRules(facts);
  return {
    kube: rules.filter((r) => r.chain.startsWith("KUBE-") || (r.target ?? "").startsWith("KUBE-")),
    docker: rules.filter((r) => r.chain.startsWith("DOCKER") || (r.target ?? "").startsWith("DOCKER")),
  };
}

/** Time between two ISO times in seconds, or undefined. */
export function secondsBetween(a?: string, b?: string): number | undefined {
  if (!a || !b) return undefined;
  const d = (Date.parse(b) - Date.parse(a)) / 1000;
  return Number.isFinite(d) ? d : undefined;
}

/** First and last sample of the collector's counters, and the per-second change of a counter. */
export function counterRate(facts: Facts, name: string): { delta: number; seconds: number; perSecond: number } | undefined {
  const s = facts.counterSamples.filter((x) => x.totals && x.totals[name] !== undefined);
  const a = s[0];
  const b = s[s.length - 1];
  if (!a || !b || a === b || !a.totals || !b.totals) return undefined;
  const seconds = b.epoch - a.epoch;
  const delta = (b.totals[name] ?? 0) - (a.totals[name] ?? 0);
  if (seconds <= 0) return undefined;
  return { delta, seconds, perSecond: Math.round((delta / seconds) * 1000) / 1000 };
}

/** Kernel log events about a set of classes (for convenience). */
export function fmt(n: number): string {
  return n.toLocaleString("en-US");
}
