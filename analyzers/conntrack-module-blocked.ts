/**
 * conntrack-module-blocked: a modprobe.d rule (`install X /bin/false|/bin/true`, `alias X off`,
 * `blacklist X`) stops a netfilter module that something on the host needs: rules, the nat
 * table, docker/kube-proxy, modules-load.d. The reverse of conntrack-loaded-unused, and often
 * its leftover (seed 001's fix: `alias nf_conntrack off`).
 */
import { Confidence } from "../src/engine/confidence.js";
import { NETFILTER_MODULE, hostPath, initramfsRebuild, moduleClosure as closure, orchestratorHints, ruleEvidence } from "../src/engine/lib/module-usage.js";
import { ruleSets } from "../src/engine/lib/rulesets.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "conntrack-module-blocked";

interface Need {
  module: string;
  why: string;
  evidence: Evidence;
  kind: "rule" | "saved-rule" | "error" | "orchestrator" | "modules-load";
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "A modprobe.d rule blocks a netfilter module that is needed",
    category: "modules",
    defaultSeverity: "high",
    docs: {
      description:
        "A modprobe.d directive (`install X /bin/false`, `install X /bin/true`, `alias X off`, `blacklist X`) prevents a netfilter module from loading while rules, the nat table, docker/kube-proxy or modules-load.d need it: iptables reports \"can't initialize iptables table `nat': Table does not exist (do you need to insmod?)\", modprobe \"Error running install command '/bin/false' for module nf_conntrack\" or \"FATAL: Module off not found\".",
      mechanism:
        "The kernel loads netfilter modules on demand through request_module(), which runs modprobe and therefore honours modprobe.d. `install X cmd` replaces the load of X by cmd (also when X is only a dependency: iptable_nat → nf_nat → nf_conntrack fails as a whole); `alias X off` makes modprobe look for a module named `off`; `blacklist X` only ignores X's aliases, so it does not stop a load by name or as a dependency.",
      signals: [
        "modprobe.d: install /bin/true|/bin/false, alias … off, blacklist for a netfilter module (file and line)",
        "kernel/syslog: `can't initialize iptables table `nat': Table does not exist (do you need to insmod?)`, `Error running install command '/bin/false' for module X`, `FATAL: Module off not found`",
        "live and saved rules whose modules (and their dependencies) include the blocked module; KUBE-*/DOCKER chains; modules-load.d entries",
        "lsmod: whether the module is loaded anyway (block added after the load: the next boot fails)",
      ],
      references: ["modprobe.d(5)", "https://developers.soundcloud.com/blog/shoot-yourself-in-the-foot-with-iptables-and-kmod-auto-loading", "kernel-facts.md §2.1, §4"],
    },
    explains: ["iptables-restore-failed", "missing-extension-module"],
  },
  detect,
};

function detect(facts: Facts): DetectedFinding[] {
  const disabled = facts.sources("modprobe-d").flatMap((p) => p.value.disabled).filter((d) => NETFILTER_MODULE.test(d.module));
  if (disabled.length === 0) return [];

  // What needs which module, with evidence.
  const needs: Need[] = [];
  for (const s of ruleSets(facts)) {
    const seen = new Set<string>();
    for (const r of s.rules)
      for (const m of closure(r.modules)) {
        const key = `${m}`;
        if (seen.has(key)) continue;
        seen.add(key);
        needs.push({ module: m, why: `${s.live ? "live" : "saved (boot)"} rule in ${r.table}/${r.chain} needs ${m}`, evidence: ruleEvidence(facts, r, `this rule needs ${r.modules.join(", ")}`), kind: s.live ? "rule" : "saved-rule" });
      }
  }
  for (const m of facts.kernelEvents("ipt-table-init")) {
    const table = m.fields.table;
    for (const mod of closure([`iptable_${table}`]))
      needs.push({ module: mod, why: `iptables could not create the ${table} table`, evidence: facts.eventEvidence(m, `can't initialize`, `the ${table} table needs iptable_${table} and its dependencies`), kind: "error" });
  }
  for (const m of facts.kernelEvents("modprobe-install-error"))
    needs.push({ module: m.fields.module.replace(/-/g, "_"), why: `modprobe ran the install command of ${m.fields.module} and it failed`, evidence: facts.eventEvidence(m, "Error running install command", "a load of this module was attempted and refused by modprobe.d"), kind: "error" });
  const offErrors = facts.kernelEvents("modprobe-not-found").filter((m) => m.fields.module === "off");
  const hints = orchestratorHints(facts);
  for (const [name, rules] of [["kube-proxy", hints.kube], ["docker", hints.docker]] as const) {
    const r = rules[0];
    if (r) for (const mod of closure(["nf_conntrack", "nf_nat", "xt_conntrack", "xt_MASQUERADE"])) needs.push({ module: mod, why: `${name} chains are present: ${name} needs NAT and conntrack`, evidence: ruleEvidence(facts, r, `${name} chain`), kind: "orchestrator" });
  }
  for (const p of facts.sources("modules-load-d"))
    for (const m of p.value.modules)
      for (const mod of closure([m.name]))
        needs.push({ module: mod, why: `${p.path} loads ${m.name} at boot`, evidence: facts.evidence("modules-load-d", m.provenance, m.rawName, { highlight: m.rawName, note: "loaded at boot by systemd-modules-load" }), kind: "modules-load" });

  const findings: DetectedFinding[] = [];
  const byModule = new Map<string, typeof disabled>();
  for (const d of disabled) byModule.set(d.module, [...(byModule.get(d.module) ?? []), d]);

  for (const [module, entries] of byModule) {
    const hard = entries.filter((e) => e.blocksDependencyLoad || e.how === "alias-off");
    const loaded = facts.loadedModules?.get(module);
    const moduleNeeds = needs.filter((n) => n.module === module);
    const errorsForOff = hard.some((e) => e.how === "alias-off") ? offErrors : [];
    const errorNeeds = moduleNeeds.filter((n) => n.kind === "error");
    if (moduleNeeds.length === 0 && errorsForOff.length === 0) continue;

    const evidence: Evidence[] = [];
    for (const e of entries)
      evidence.push(
        facts.evidence("modprobe-d", e.provenance, `${e.how} ${module}`, {
          highlight: module,
          note:
            e.how === "blacklist"
              ? "blacklist: ignores the module's aliases only; a load by name or as a dependency still happens"
              : e.how === "alias-off"
                ? "alias … off: modprobe looks for a module named `off` instead"
                : `install ${e.how === "install-true" ? "/bin/true" : e.how === "install-false" ? "/bin/false" : "<command>"}: the load is replaced by the command, also as a dependency`,
        }),
      );
    const seenEv = new Set<string>();
    for (const n of [...moduleNeeds.filter((x) => x.kind === "error"), ...moduleNeeds.filter((x) => x.kind !== "error")]) {
      const key = `${n.evidence.path}:${n.evidence.line ?? ""}`;
      if (seenEv.has(key) || evidence.length >= 10) continue;
      seenEv.add(key);
      evidence.push(n.evidence);
    }
    for (const m of errorsForOff.slice(0, 2)) evidence.push(facts.eventEvidence(m, "Module off not found", "modprobe followed `alias … off` and found no module named off"));

    const conf = new Confidence(0.5, `modprobe.d blocks ${module} and something needs it`);
    let severity: DetectedFinding["severity"];
    if (hard.length === 0) {
      // A plain blacklist: never what stops a dependency load.
      if (loaded) continue; // ineffective and the module is in: nothing is blocked (see conntrack-loaded-unused)
      severity = "info";
      conf.add(-0.2, "only a plain blacklist: it stops alias-based autoloading, not a load by name or as a dependency");
    } else if (errorNeeds.length > 0 || errorsForOff.length > 0) {
      severity = "high";
      conf.add(0.3, `load attempts failed because of it (${errorNeeds.length + errorsForOff.length} error line(s))`);
    } else if (loaded) {
      severity = "medium";
      conf.add(0.1, `${module} is loaded now (the rule was added after it loaded): the next boot or reload will fail`);
    } else {
      severity = moduleNeeds.some((n) => n.kind === "rule" || n.kind === "saved-rule" || n.kind === "orchestrator") ? "high" : "medium";
      conf.add(0.15, `${module} is not loaded and ${moduleNeeds[0]?.why ?? "something needs it"}`);
    }
    if (moduleNeeds.some((n) => n.kind === "rule" || n.kind === "saved-rule")) conf.add(0.1, "rules need the module");
    if (moduleNeeds.length > 0 && moduleNeeds.every((n) => n.kind === "error")) conf.add(-0.1, "only manual load attempts show a need: if the block is intentional (e.g. a host that must never track connections), this is expected");

    const table = facts.kernelEvents("ipt-table-init")[0]?.fields.table;
    const files = [...new Set(entries.map((e) => `${hostPath(e.provenance.path)}:${e.provenance.line}`))];
    const removeCmds = entries.filter((e) => hard.includes(e) || hard.length === 0).map((e) => `sed -i '${e.provenance.line}s/^/# /' ${hostPath(e.provenance.path)}`);
    const savedFiles = ruleSets(facts).filter((s) => !s.live && s.rules.some((r) => closure(r.modules).has(module)));
    const failTimes = [...errorNeeds.map((n) => n.evidence), ...errorsForOff.map((m) => facts.eventEvidence(m))].length
      ? facts.kernelMessages.filter((m) => (m.class === "modprobe-install-error" || m.class === "ipt-table-init" || (m.class === "modprobe-not-found" && m.fields.module === "off")) && m.wallTime).map((m) => m.wallTime as string)
      : [];
    const firstFail = failTimes[0];
    const lastFail = failTimes[failTimes.length - 1];
    const whys = [...new Set(moduleNeeds.map((n) => n.why))].slice(0, 3);

    const fixes: DetectedFinding["fixes"] = [
      {
        title: `Remove the modprobe.d rule that blocks ${module} (${files.join(", ")})`,
        rationale: `${whys.join("; ") || "something tried to load it"}. Commenting the line out lets request_module() load ${module} again; the initramfs may carry a copy of modprobe.d, so rebuild it.`,
        commands: [...removeCmds, `modprobe -n -v ${module}   # should now print insmod …/${module}.ko`],
        persist: [...files.map((f) => `${f}: commented out`), initramfsRebuild(facts)],
        verify: [`modprobe -c | grep -E '^(install|alias|blacklist) ${module}\\b'   # expect no output`],
        rollback: entries.map((e) => `sed -i '${e.provenance.line}s/^# //' ${hostPath(e.provenance.path)}`),
        risk: "Low for the host's function; if the block was deliberate (a host that must never track connections, seed 001), loading the module brings that tracking back: see conntrack-loaded-unused.",
        cureLikelihood: hard.length > 0 ? 0.9 : 0.3,
      },
      {
        title: `Load ${module}${table ? ` and the ${table} table` : ""} now, then re-apply the rules`,
        rationale: "Loading by hand confirms nothing else blocks it and lets the failed rules load without a reboot.",
        commands: [
          `modprobe ${module}`,
          ...(table ? [`modprobe iptable_${table}`] : []),
          ...savedFiles.map((s) => `iptables-restore < ${hostPath(s.path)}`),
        ],
        persist: [],
        verify: [
          `grep -E '^${module} ' /proc/modules`,
          ...(table ? [`cat /proc/net/ip_tables_names   # expect ${table}`, `iptables -t ${table} -S`] : []),
        ],
        rollback: [`modprobe -r ${module}`],
        risk: "Low.",
        cureLikelihood: 0.7,
      },
    ];

    findings.push({
      title: `modprobe.d blocks ${module}, which is needed`,
      severity,
      ...conf.toFinding(),
      summary: `${files.join(", ")} ${hard.length > 0 ? "stops" : "blacklists"} ${module} (${entries.map((e) => e.how).join(", ")}) but ${whys[0] ?? "something needs it"}${errorNeeds.length + errorsForOff.length > 0 ? `; ${errorNeeds.length + errorsForOff.length} load attempt(s) failed` : ""}${loaded ? `; ${module} is loaded now, so the failure comes at the next boot or reload` : ""}.`,
      mechanism:
        hard.length > 0
          ? `request_module() runs modprobe, which honours modprobe.d: ${entries.some((e) => e.how === "alias-off") ? "`alias " + module + " off` makes it look for a module named `off` (FATAL: Module off not found)" : "the install command replaces the load and returns failure"}, and every module that depends on ${module} fails with it (iptable_nat → nf_nat → nf_conntrack: "Table does not exist (do you need to insmod?)").`
          : `A plain blacklist only makes modprobe ignore ${module}'s aliases; a load by name or as a dependency still works, so this line is not what stops it.`,
      evidence,
      ruledOutBy: ["the block is intentional and nothing should use this module (then the failing commands are the thing to stop)", "`modprobe -c` shows no such rule (the file was changed after collection)"],
      metrics: { module, blockedBy: entries.map((e) => e.how).join(","), needs: moduleNeeds.length, failedLoads: errorNeeds.length + errorsForOff.length, loadedNow: Boolean(loaded) },
      ...(firstFail ? { firstSeen: firstFail } : {}),
      ...(lastFail ? { lastSeen: lastFail } : {}),
      fixes,
    });
  }
  return findings;
}
