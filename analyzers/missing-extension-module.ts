/**
 * missing-extension-module: a rule needs a match/target whose kernel module (xt_X) or userspace
 * extension (libxt_X.so) is absent: "Couldn't load match `X'", "Extension X revision 0 not
 * supported, missing kernel module?", "No chain/target/match by that name", "modprobe: FATAL:
 * Module xt_X not found" (seed 004, lab-notes §B), or "x_tables: … invalid size" (userspace and
 * kernel disagree on the extension's structure).
 */
import { Confidence } from "../src/engine/confidence.js";
import { blockedBy, extraModulesInstall, hostPath, kconfigFor, moduleOnDisk, ruleEvidence } from "../src/engine/lib/module-usage.js";
import { type RuleSetView, type UnifiedRule, ruleSets } from "../src/engine/lib/rulesets.js";
import type { KernelEvent } from "../src/facts/facts.js";
import { modulesForMatch, modulesForTarget } from "../src/parsers/netfilter-modules.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "missing-extension-module";

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "A rule needs a match/target whose module is missing",
    category: "modules",
    defaultSeverity: "high",
    docs: {
      description:
        "iptables cannot load a rule because the kernel module of a match or target (xt_recent, xt_set, xt_multiport …) is not in the running kernel's module tree, is not built at all, or because the userspace extension (libxt_X.so) is missing. Saved rules then fail to restore and the firewall is not (fully) loaded.",
      mechanism:
        "For each extension iptables asks the kernel which revisions it supports; the kernel request_module()s xt_X (or ipt_X). When modprobe finds no xt_X.ko for `uname -r`, iptables ≥ 1.8.8 warns \"Extension X revision 0 not supported, missing kernel module?\" and the rule fails with \"No chain/target/match by that name\" (legacy) or \"RULE_APPEND failed (No such file or directory)\" (nft backend); iptables-restore aborts the whole table at that line. When the userspace libxt_X.so is missing, libxtables prints \"Couldn't load match `X':No such file or directory\" even though the kernel module exists. \"x_tables: … invalid size K (kernel) != (user) U\" means the userspace binary and the kernel disagree on the extension's structure (mismatched builds, 32-bit userland on a 64-bit kernel).",
      signals: [
        "syslog/journal: Couldn't load match/target `X' (ipt-load-error), Extension X revision 0 not supported (ipt-extension-unsupported), No chain/target/match by that name (ipt-no-such), modprobe: FATAL: Module xt_X not found (modprobe-not-found), iptables-restore line N failed",
        "kernel log: x_tables: … X match/target: invalid size (xt-error)",
        "lsmod / /proc/modules: the module is not loaded; modules_on_disk: not installed for the running kernel",
        "kernel config: CONFIG_NETFILTER_XT_MATCH_X not set",
        "live/saved rules that use the extension",
      ],
      references: ["kernel-facts.md §1.7, §4, §4.1", "seed 004 (missing extension modules)", "lab-notes.md §B (xt_recent removed)"],
    },
    explains: ["iptables-restore-failed"],
  },
  detect,
};

interface Candidate {
  module: string;
  extension: string;
  kind: "match" | "target";
  events: KernelEvent[];
  userspaceMissing: boolean;
  sizeMismatch: boolean;
}

/**
 * Whether a log holds more lines of these events' classes than its parser kept (the first 2,000
 * of a class, then new texts only): the kept lines then give a lower bound and not the last one.
 */
function pastKeepCap(facts: Facts, events: KernelEvent[]): boolean {
  const classes = new Set(events.map((e) => e.class).filter((c) => c !== "other"));
  for (const id of ["dmesg", "kernel-log", "journal"] as const)
    for (const p of facts.sources(id))
      for (const cls of classes) {
        const t = p.value.classes[cls];
        if (t && t.count > t.kept) return true;
      }
  return false;
}

function moduleOf(name: string, kind: "match" | "target", kernel?: string): string {
  const mods = kind === "target" ? modulesForTarget(name, "ipv4", kernel) : modulesForMatch(name, "ipv4");
  return mods[0] ?? `xt_${name}`;
}

interface UsingRule {
  r: UnifiedRule;
  live: boolean;
  set: RuleSetView;
}

/**
 * The rules of every set that use one of `extensions` (as a match or as their target), by
 * extension, in the order of the sets and their rules: one pass over the rules for all extensions.
 */
export function rulesUsing(sets: readonly RuleSetView[], extensions: ReadonlySet<string>): Map<string, UsingRule[]> {
  const out = new Map<string, UsingRule[]>();
  const add = (name: string, u: UsingRule) => {
    const list = out.get(name);
    if (list) list.push(u);
    else out.set(name, [u]);
  };
  for (const set of sets)
    for (const r of set.rules) {
      const matches = r.matches;
      let u: UsingRule | undefined;
      for (let i = 0; i < matches.length; i++) {
        const name = matches[i]!;
        // A name listed twice counts the rule once.
        if (extensions.has(name) && matches.indexOf(name) === i) add(name, (u ??= { r, live: set.live, set }));
      }
      const target = r.target;
      if (target !== undefined && extensions.has(target) && !matches.includes(target)) add(target, (u ??= { r, live: set.live, set }));
    }
  return out;
}

function detect(facts: Facts): DetectedFinding[] {
  const kernel = facts.kernel?.value.raw;
  const cands = new Map<string, Candidate>();
  // Thousands of error lines name a few extensions: each name is resolved once.
  const resolved = new Map<string, { module: string; extension: string }>();
  const add = (ext: string, kind: "match" | "target", ev: KernelEvent, flags: Partial<Pick<Candidate, "userspaceMissing" | "sizeMismatch">> = {}) => {
    const key = `${kind}\u0000${ext}`;
    let names = resolved.get(key);
    if (!names) resolved.set(key, (names = { module: /^(xt|ipt|ip6t|nft|nf)_/.test(ext) ? ext : moduleOf(ext, kind, kernel), extension: ext.replace(/^(xt|ipt|ip6t)_/, "") }));
    const { module, extension } = names;
    let c = cands.get(module);
    if (!c) cands.set(module, (c = { module, extension, kind, events: [], userspaceMissing: false, sizeMismatch: false }));
    c.events.push(ev);
    if (flags.userspaceMissing) c.userspaceMissing = true;
    if (flags.sizeMismatch) c.sizeMismatch = true;
  };
  const unsupported = facts.kernelEvents("ipt-extension-unsupported");
  for (const m of unsupported) add(m.fields.name, m.fields.name === m.fields.name.toUpperCase() ? "target" : "match", m);
  for (const m of facts.kernelEvents("modprobe-not-found")) {
    if (m.fields.module === "off") continue; // alias … off: conntrack-module-blocked
    if (!/^(xt_|ipt_|ip6t_|nft_|nf_|iptable_|ip6table_|ip_set|ebt_|arpt_)/.test(m.fields.module)) continue;
    add(m.fields.module, /^(xt|ipt|ip6t)_[A-Z]/.test(m.fields.module) ? "target" : "match", m);
  }
  const unsupportedNames = new Set(unsupported.map((u) => u.fields.name));
  for (const m of facts.kernelEvents("ipt-load-error")) {
    const name = m.fields.name;
    const kernelSaid = unsupportedNames.has(name);
    // Without a kernel warning for the same extension, "No such file or directory" is the userspace .so.
    add(name, m.fields.kind, m, { userspaceMissing: !kernelSaid && /No such file or directory/.test(m.fields.detail ?? "") });
  }
  for (const m of facts.kernelEvents("xt-error")) if (m.fields.kernelSize !== undefined) add(m.fields.name, m.fields.kind, m, { sizeMismatch: true });
  if (cands.size === 0) return [];

  const noSuch = facts.kernelEvents("ipt-no-such");
  const restoreFailed = [...facts.kernelEvents("ipt-restore-failed"), ...facts.kernelEvents("ipt-nft-op-failed")];
  const config = facts.first("kernel-config")?.value;
  const extra = extraModulesInstall(facts);
  const sets = ruleSets(facts);
  const rulesByExtension = rulesUsing(sets, new Set([...cands.values()].map((c) => c.extension)));
  const findings: DetectedFinding[] = [];

  for (const c of cands.values()) {
    // Blocked by modprobe.d (the module or a dependency): conntrack-module-blocked reports it.
    if (blockedBy(facts, c.module).length > 0) continue;
    const loaded = facts.moduleLoaded(c.module);
    const disk = moduleOnDisk(facts, c.module);
    const kopt = kconfigFor(c.module);
    const kval = kopt && config ? config.options[kopt] : undefined;
    const usingRules = rulesByExtension.get(c.extension) ?? [];
    const kernelMissing = !c.userspaceMissing && !c.sizeMismatch && !loaded;
    const evidence: Evidence[] = [];
    const conf = new Confidence(0.55, `iptables reported the ${c.kind} \`${c.extension}\` unusable`);
    for (const ev of c.events.slice(0, 5))
      evidence.push(
        facts.eventEvidence(
          ev,
          ev.class === "modprobe-not-found" ? `Module ${c.module} not found` : ev.class === "ipt-extension-unsupported" ? `Extension ${c.extension}` : ev.class === "xt-error" ? "invalid size" : "Couldn't load",
          ev.class === "modprobe-not-found" ? "modprobe has no such module for the running kernel" : ev.class === "xt-error" ? "kernel and userspace disagree on the extension's structure size" : "iptables could not use the extension",
        ),
      );
    const firstEv = c.events[0];
    for (const ev of noSuch.slice(0, 1)) evidence.push(facts.eventEvidence(ev, "No chain/target/match by that name", "the rule was refused"));
    for (const ev of restoreFailed.slice(0, 2)) evidence.push(facts.eventEvidence(ev, undefined, "the rule file failed to restore at this line"));
    if (restoreFailed.length > 0) conf.add(0.1, "a restore failed: the firewall is not fully loaded");
    if (c.events.some((e) => e.class === "modprobe-not-found") && c.events.some((e) => e.class !== "modprobe-not-found")) conf.add(0.15, `modprobe confirms ${c.module} is not installed`);
    if (loaded && loaded !== "builtin") evidence.push({ ...loaded, note: `${c.module} is loaded: the kernel side is fine` });
    if (disk) {
      if (disk.onDisk && disk.evidence) {
        evidence.push(disk.evidence);
        if (kernelMissing && !c.events.some((e) => e.class === "modprobe-not-found")) conf.add(-0.2, `${c.module}.ko is installed: the load failed for another reason (a dependency, signature, another kernel's tree)`);
      }
      else if (!disk.onDisk) {
        evidence.push({ source: "modules-on-disk", path: disk.listPath, text: `(no ${c.module}.ko in the list)`, note: `${c.module} is not installed for ${kernel ?? "the running kernel"}` });
        if (kernelMissing) conf.add(0.15, `${c.module}.ko is absent from the running kernel's module tree`);
      }
    } else if (kernelMissing) conf.add(-0.1, "no list of the modules on disk in the bundle: installed-but-not-loaded cannot be told from absent");
    if (kval) {
      evidence.push(facts.evidence("kernel-config", kval.provenance, `${kopt}=${kval.value}`, { highlight: kopt ?? "", note: kval.kind === "not-set" ? "the kernel was built without it" : "the kernel was built with it" }));
      if (kval.kind === "not-set") conf.add(0.15, `${kopt} is not set in the kernel config`);
    }
    for (const { r, live } of usingRules.slice(0, 3)) evidence.push(ruleEvidence(facts, r, `${live ? "live" : "saved"} rule using ${c.extension}`, c.extension));
    if (usingRules.length > 0) conf.add(0.1, `${usingRules.length} rule(s) in the bundle use ${c.extension}`);
    if (c.userspaceMissing && (loaded || disk?.onDisk)) conf.add(0.1, "the kernel module exists: the userspace extension is what is missing");
    if (c.userspaceMissing && !loaded && !disk) conf.add(-0.15, "cannot tell whether the kernel module exists: the userspace .so or the module may be missing");

    const severity: DetectedFinding["severity"] = restoreFailed.length > 0 || usingRules.some((u) => !u.live) || c.events.some((e) => e.program?.includes("restore") || e.program === "netfilter-persistent") ? "high" : "medium";
    const lib = /^ipt_/.test(c.module) ? `libipt_${c.extension}.so` : `libxt_${c.extension}.so`;
    const savedFile = usingRules.find((u) => !u.live)?.set;
    const fixes: DetectedFinding["fixes"] = [];
    const verifyRule = c.kind === "match" ? `iptables -m ${c.extension} -h | tail -3   # expect the ${c.extension} options, no error` : `iptables -j ${c.extension} -h | tail -3`;
    if (c.sizeMismatch) {
      fixes.push({
        title: `Use the distribution's iptables for this kernel (size mismatch of ${c.extension})`,
        rationale: "The kernel rejected the extension's structure size: the iptables binary was built against other kernel headers or for another ABI (32-bit userland on a 64-bit kernel, a static binary in a container image).",
        commands: ["command -v iptables; iptables -V", facts.distroFamily === "rhel" ? "dnf reinstall iptables-libs iptables-nft" : "apt-get install --reinstall iptables"],
        persist: [],
        verify: [verifyRule, "dmesg | grep 'invalid size'   # expect nothing new"],
        rollback: [],
        risk: "Low.",
        cureLikelihood: 0.6,
      });
    } else if (c.userspaceMissing) {
      fixes.push({
        title: `Reinstall the iptables extensions (${lib} is missing)`,
        rationale: `libxtables could not open ${lib}${loaded || disk?.onDisk ? ` while ${c.module} exists in the kernel` : ""}: the userspace part of the extension is missing, not the kernel module.`,
        commands:
          facts.distroFamily === "rhel"
            ? [`ls /usr/lib64/xtables/${lib}`, "dnf reinstall iptables-libs"]
            : facts.distroFamily === "alpine"
              ? [`ls /usr/lib/xtables/${lib}`, "apk fix iptables"]
              : [`ls /usr/lib/$(uname -m)-linux-gnu/xtables/${lib}`, "apt-get install --reinstall iptables"],
        persist: [],
        verify: [verifyRule],
        rollback: [],
        risk: "Low.",
        cureLikelihood: 0.75,
      });
    } else {
      if (disk?.onDisk !== false && kval?.kind !== "not-set") {
        fixes.push({
          title: `Load ${c.module} and load it at every boot`,
          rationale: `${c.module} ${disk?.onDisk ? "is installed but not loaded" : "may be installed but is not loaded"}; loading it by hand and listing it in modules-load.d makes the rules restorable at boot.`,
          commands: [`modprobe ${c.module}`, ...(savedFile ? [`iptables-restore --test < ${hostPath(savedFile.path)} && iptables-restore < ${hostPath(savedFile.path)}`] : [])],
          persist: ["/etc/modules-load.d/nfdiag.conf:", `  ${c.module}`],
          verify: [`grep -E '^${c.module} ' /proc/modules`, verifyRule],
          rollback: [`modprobe -r ${c.module}`, "remove the line from /etc/modules-load.d/nfdiag.conf"],
          risk: "Low.",
          cureLikelihood: disk?.onDisk ? 0.85 : 0.5,
        });
      }
      if (kval?.kind !== "not-set") {
        fixes.push({
          title: `Install the kernel's module package that carries ${c.module}`,
          rationale: `${disk?.onDisk === false ? `${c.module}.ko is not in /lib/modules/${kernel ?? "$(uname -r)"}` : `modprobe reports ${c.module} not found`}: ${extra.note}.`,
          commands: [...extra.commands, "depmod -a", `modprobe ${c.module}`],
          persist: ["/etc/modules-load.d/nfdiag.conf:", `  ${c.module}`],
          verify: [`modinfo ${c.module} | head -3`, `grep -E '^${c.module} ' /proc/modules`, verifyRule],
          rollback: [],
          risk: "Low; the package must match the running kernel exactly ($(uname -r)), or reboot into the kernel the package belongs to.",
          cureLikelihood: disk?.onDisk === false ? 0.8 : 0.5,
        });
      }
      fixes.push({
        title: kval?.kind === "not-set" ? `Kernel built without ${kopt}: rebuild or use another kernel` : `If no package has it: enable ${kopt ?? c.module} in the kernel configuration`,
        rationale: `${kopt ?? "The option"} must be =m or =y for ${c.extension} rules to work; otherwise rewrite the rule without ${c.extension} (e.g. nft sets/meters instead of recent).`,
        commands: [`grep ${kopt ?? c.module} /boot/config-$(uname -r)`],
        persist: [`${kopt ?? "CONFIG_…"}=m in the kernel configuration`],
        verify: [`modinfo ${c.module}`],
        rollback: [],
        risk: "Medium: a custom kernel build.",
        cureLikelihood: kval?.kind === "not-set" ? 0.7 : 0.2,
      });
    }

    const capped = pastKeepCap(facts, c.events);
    const where = c.userspaceMissing ? `the userspace extension ${lib}` : c.sizeMismatch ? `a matching ${c.extension} between iptables and the kernel` : `the kernel module ${c.module}`;
    findings.push({
      title: `${c.kind === "target" ? "Target" : "Match"} ${c.extension}: ${c.userspaceMissing ? "userspace extension" : c.sizeMismatch ? "kernel/userspace size mismatch" : "kernel module"} missing`,
      severity,
      ...conf.toFinding(),
      summary: `Rules using the ${c.kind} \`${c.extension}\` cannot load: ${where} is missing${loaded ? "" : ` (${c.module} not loaded${disk ? (disk.onDisk ? ", but installed" : `, not installed for ${kernel ?? "the running kernel"}`) : ""})`}. ${capped ? "At least " : ""}${c.events.length} error line(s)${capped ? " (the log holds more lines of this kind than the parser keeps)" : ""}${restoreFailed.length ? `; ${restoreFailed.length} restore failure(s)` : ""}${usingRules.length ? `; ${usingRules.length} rule(s) in the bundle use it` : ""}.`,
      mechanism: c.userspaceMissing
        ? `libxtables looks for ${lib} before asking the kernel; "Couldn't load ${c.kind} \`${c.extension}':No such file or directory" without a kernel-side warning means the .so is missing from the iptables package.`
        : c.sizeMismatch
          ? "x_tables compares the size of the extension's data the iptables binary sends with the kernel's own: a mismatch means the binary and the kernel were built from different definitions."
          : `iptables asks the kernel for ${c.extension}; the kernel runs modprobe ${c.module}, which finds no ${c.module}.ko for ${kernel ?? "the running kernel"}, so the rule is refused ("No chain/target/match by that name" with legacy, "RULE_APPEND failed (No such file or directory)" with nft) and iptables-restore aborts the table at that line.`,
      evidence,
      ruledOutBy: [`\`modprobe ${c.module}\` succeeds on the host now (the module was installed after collection)`, "the rule using it was removed on purpose"],
      metrics: { module: c.module, extension: c.extension, errorLines: c.events.length, errorLinesAtLeast: capped, loaded: Boolean(loaded), onDisk: disk ? disk.onDisk : null, userspaceMissing: c.userspaceMissing, sizeMismatch: c.sizeMismatch, rulesUsing: usingRules.length },
      ...(firstEv?.wallTime ? { firstSeen: firstEv.wallTime } : {}),
      // Past the cap the last kept line is not the last line.
      ...(!capped && c.events[c.events.length - 1]?.wallTime ? { lastSeen: c.events[c.events.length - 1]?.wallTime } : {}),
      fixes,
    });
  }
  return findings;
}

