/**
 * iptables-restore-failed: the firewall service failed to load its saved rules
 * ("iptables-restore: line N failed", "Error occurred at line: N", a failed iptables /
 * netfilter-persistent / nftables / firewalld unit). Points at line N of the saved rules file and
 * explains it; the real cause is usually another finding (missing-extension-module,
 * ruleset-too-large, iptables-backend-mismatch declare `explains: [iptables-restore-failed]`).
 */
import { Confidence } from "../src/engine/confidence.js";
import { iptablesCommand, primaryLiveStats, ruleSetStats } from "../src/engine/lib/ruleset-stats.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";
import type { KernelEvent } from "../src/facts/facts.js";
import type { SourceValue } from "../src/facts/outputs.js";
import type { KlogMessage } from "../src/parsers/kernel-log.js";
import { modulesForRule } from "../src/parsers/netfilter-modules.js";

const ID = "iptables-restore-failed";
const FIREWALL_UNIT = /^(ip6?tables|ip6?tables-restore|netfilter-persistent|nftables|firewalld|ipset|ebtables|arptables|ufw|shorewall6?|ferm)\.service$/;

type Ev<C extends KlogMessage["class"]> = Extract<KlogMessage, { class: C }> & KernelEvent;

interface SavedLine {
  path: string;
  line: number;
  text: string;
  family: "ipv4" | "ipv6";
  table?: string;
  kind: "rule" | "commit" | "chain" | "table" | "other";
  matches: string[];
  target?: string;
  modules: string[];
  origin: "saved-rules";
  backend?: "nf_tables" | "legacy";
}

function savedFiles(facts: Facts): { path: string; family: "ipv4" | "ipv6"; backend?: "nf_tables" | "legacy"; rules: number }[] {
  return facts.sources("saved-rules").map((p) => ({
    path: p.path,
    family: /rules\.v6$|ip6tables$/.test(p.path) || p.value.headers[0]?.family === "ipv6" ? ("ipv6" as const) : ("ipv4" as const),
    ...(p.value.headers[0] ? { backend: p.value.headers[0].backend } : {}),
    rules: p.value.totals.rules,
  }));
}

function savedLine(facts: Facts, path: string, lineNo: number): SavedLine | undefined {
  const p = facts.sources("saved-rules").find((x) => x.path === path);
  const text = facts.lineText(path, lineNo);
  if (!p || text === undefined) return undefined;
  const family = /rules\.v6$|ip6tables$/.test(path) || p.value.headers[0]?.family === "ipv6" ? "ipv6" : "ipv4";
  const backend = p.value.headers[0]?.backend;
  for (const t of p.value.tables) {
    const r = rulesByLine(t).get(lineNo);
    if (r) {
      const input = { table: t.name, family: family as "ipv4" | "ipv6", matches: r.matches, ...(r.target ? { target: r.target } : {}) };
      return { path, line: lineNo, text, family, table: t.name, kind: "rule", matches: r.matches.map((m) => m.name), ...(r.target ? { target: r.target } : {}), modules: modulesForRule(input, facts.kernel?.value.raw), origin: "saved-rules", ...(backend ? { backend } : {}) };
    }
  }
  // Not a rule line: which table does it belong to?
  let table: string | undefined;
  for (const t of p.value.tables) if (t.provenance.line <= lineNo) table = t.name;
  const trimmed = text.trim();
  const kind: SavedLine["kind"] = trimmed === "COMMIT" ? "commit" : trimmed.startsWith(":") ? "chain" : trimmed.startsWith("*") ? "table" : "other";
  return { path, line: lineNo, text, family, ...(table ? { table } : {}), kind, matches: [], modules: [], origin: "saved-rules", ...(backend ? { backend } : {}) };
}

type SavedTable = SourceValue<"saved-rules">["tables"][number];
const ruleIndex = new WeakMap<SavedTable, Map<number, SavedTable["rules"][number]>>();
/** Rules of a saved table by line, indexed once (a failure names a line; big files have 100k rules). */
function rulesByLine(t: SavedTable): Map<number, SavedTable["rules"][number]> {
  let idx = ruleIndex.get(t);
  if (!idx) ruleIndex.set(t, (idx = new Map(t.rules.map((r) => [r.provenance.line, r]))));
  return idx;
}

function byIp6tables(x: KernelEvent): boolean {
  return x.text.includes("ip6tables") || (x.program?.includes("ip6tables") ?? false);
}

/** How many lines before and after a failure the tool's own explanation is looked for. */
const CONTEXT_LINES = 3;

/**
 * For each event, the lines logged by the same program just before/after it (the tool's own
 * explanation), in the order of the kernel messages. One pass over the messages that keeps only
 * the few lines near an event: no index of the whole log.
 */
export function contexts(messages: readonly KernelEvent[], events: readonly KernelEvent[]): Map<KernelEvent, KernelEvent[]> {
  // Line numbers near an event, in any file, as a bitmap: most messages are passed over on their number.
  let lastLine = 0;
  for (const m of events) lastLine = Math.max(lastLine, m.provenance.line + CONTEXT_LINES);
  const nearLine = new Uint8Array(lastLine + 1);
  for (const m of events) nearLine.fill(1, Math.max(0, m.provenance.line - CONTEXT_LINES), m.provenance.line + CONTEXT_LINES + 1);
  // path → line → the messages logged there, for those lines only.
  const near = new Map<string, Map<number, KernelEvent[]>>();
  for (const x of messages) {
    const line = x.provenance.line;
    if (nearLine[line] !== 1 || x.class === "log-packet") continue;
    let lines = near.get(x.provenance.path);
    if (!lines) near.set(x.provenance.path, (lines = new Map()));
    const at = lines.get(line);
    if (at) at.push(x);
    else lines.set(line, [x]);
  }
  const out = new Map<KernelEvent, KernelEvent[]>();
  for (const m of events) {
    const lines = near.get(m.provenance.path);
    const found: KernelEvent[] = [];
    for (let l = m.provenance.line - CONTEXT_LINES; l <= m.provenance.line + CONTEXT_LINES; l++)
      for (const x of lines?.get(l) ?? []) if (x !== m && (x.program ?? "") === (m.program ?? "")) found.push(x);
    out.set(m, found);
  }
  return out;
}

/** The earliest and latest of the wall times some events have (ISO strings compare as times). */
export function timeRange(events: readonly { wallTime?: string | undefined }[]): { first: string; last: string } | undefined {
  let first: string | undefined;
  let last: string | undefined;
  for (const e of events) {
    const t = e.wallTime;
    if (!t) continue;
    if (first === undefined || t < first) first = t;
    if (last === undefined || t > last) last = t;
  }
  return first === undefined ? undefined : { first, last: last! };
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "The firewall failed to load its saved rules",
    category: "rules",
    defaultSeverity: "high",
    docs: {
      description:
        "Finds firewall services that failed (iptables, ip6tables, netfilter-persistent, nftables, firewalld units) and `iptables-restore: line N failed` / `Error occurred at line: N` messages, quotes line N of the saved rules file (etc/iptables/rules.v4, etc/sysconfig/iptables) and says why that line fails: the module its match needs, an unknown option, a table the kernel refused.",
      mechanism:
        "iptables-restore applies each table atomically at COMMIT: one bad line makes the whole table (legacy) or the whole batch (nft) fail, so the host keeps running with no rules, or with the previous ones, while the service reports a failure.",
      signals: [
        "ipt-restore-failed: `iptables-restore: line N failed`, `Error occurred at line: N`, `line N: RULE_APPEND failed (…)`",
        "unit-failed: `<unit>.service: Failed with result …`, `Failed to start <unit>` for firewall units (journal, syslog)",
        "the saved rules file (saved-rules) at line N",
        "the tool's own lines around the failure (`unknown option`, `Extension X revision 0 not supported`, `Couldn't load match`)",
        "live rule count vs saved rule count",
      ],
      references: ["kernel-facts.md §4 (iptables-restore messages)", "lab-notes.md (rule errors)"],
    },
    explains: [],
  },

  detect(facts) {
    const failures = facts.kernelEvents("ipt-restore-failed");
    const units = facts.kernelEvents("unit-failed").filter((m) => m.fields.unit !== undefined && FIREWALL_UNIT.test(m.fields.unit));
    if (failures.length === 0 && units.length === 0) return [];

    const files = savedFiles(facts);
    const extUnsupported = facts.kernelEvents("ipt-extension-unsupported");
    const loadErrors = facts.kernelEvents("ipt-load-error");
    const modprobeMissing = facts.kernelEvents("modprobe-not-found");
    const enomem = facts.kernelEvents("ipt-enomem");
    const tableInit = facts.kernelEvents("ipt-table-init");
    const xtErrors = facts.kernelEvents("xt-error");

    // Group the failures by line number and family.
    interface Group {
      lineNo: number;
      family: "ipv4" | "ipv6";
      events: Ev<"ipt-restore-failed">[];
      context: KernelEvent[];
      saved?: SavedLine;
    }
    const groups = new Map<string, Group>();
    const contextOf = contexts(facts.kernelMessages, failures);
    for (const m of failures) {
      const ctx = contextOf.get(m)!;
      const v6 = byIp6tables(m) || ctx.some(byIp6tables);
      const family = v6 ? "ipv6" : "ipv4";
      const k = `${family}:${m.fields.lineNo}`;
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { lineNo: m.fields.lineNo, family, events: [], context: [] }));
      g.events.push(m);
      for (const c of ctx) if (!g.context.includes(c)) g.context.push(c);
    }
    for (const g of groups.values()) {
      const file = files.find((f) => f.family === g.family) ?? files[0];
      if (file && g.lineNo > 0) {
        const s = savedLine(facts, file.path, g.lineNo);
        if (s) g.saved = s;
      }
    }

    const evidence: Evidence[] = [];
    const explanations: string[] = [];
    const causeIds = new Set<string>();
    const badModules = new Set<string>();
    for (const g of [...groups.values()].slice(0, 4)) {
      const m = g.events[0]!;
      evidence.push(facts.eventEvidence(m, /Error occurred at line/.test(m.text) ? `line: ${g.lineNo}` : `line ${g.lineNo}`, `${g.events.length > 1 ? `${g.events.length}× ` : ""}the restore stopped at line ${g.lineNo}`));
      for (const c of g.context.filter((x) => x.class !== "other" || /unknown option|invalid|not supported|Bad argument|can't|failed/i.test(x.text)).slice(0, 3)) evidence.push(facts.eventEvidence(c, undefined, "what the tool printed with the failure"));
      const s = g.saved;
      if (!s) continue;
      evidence.push(facts.evidence("saved-rules", { path: s.path, line: s.line }, s.text, { note: `line ${s.line} of the saved rules file: the line the restore rejected`, highlight: s.text.trim() }));
      const why: string[] = [];
      if (s.kind === "rule") {
        const unsupported = extUnsupported.filter((e) => s.matches.includes(e.fields.name) || s.target === e.fields.name);
        const loadErr = loadErrors.filter((e) => s.matches.includes(e.fields.name) || s.target === e.fields.name);
        const notFound = modprobeMissing.filter((e) => s.modules.includes(e.fields.module));
        for (const e of unsupported.slice(0, 1)) {
          why.push(`its \`-m ${e.fields.name}\` needs a kernel module that is missing ("Extension ${e.fields.name} revision ${e.fields.revision ?? 0} not supported, missing kernel module?")`);
          evidence.push(facts.eventEvidence(e, `Extension ${e.fields.name}`, "the kernel has no module for this match"));
          causeIds.add("missing-extension-module");
          for (const mod of s.modules) if (mod.includes(e.fields.name.toLowerCase())) badModules.add(mod);
        }
        for (const e of notFound.slice(0, 1)) {
          why.push(`modprobe cannot find ${e.fields.module} for this kernel`);
          evidence.push(facts.eventEvidence(e, e.fields.module, "the module file is not installed"));
          badModules.add(e.fields.module);
          causeIds.add("missing-extension-module");
        }
        for (const e of loadErr.slice(0, 1)) {
          why.push(`iptables could not load the ${e.fields.kind} \`${e.fields.name}\`${e.fields.detail ? ` (${e.fields.detail.trim()})` : ""}: the userspace extension libxt_${e.fields.name}.so or its kernel module is missing`);
          evidence.push(facts.eventEvidence(e, e.fields.name, "iptables could not load this extension"));
          causeIds.add("missing-extension-module");
        }
        const unknownOpt = g.context.find((x) => /unknown option/.test(x.text));
        if (unknownOpt) why.push(`${unknownOpt.text.replace(/^.*?: (unknown option)/, "$1")} follows from that: without the extension its options are unknown`);
        if (why.length === 0 && s.modules.length) {
          const missing = s.modules.filter((mod) => facts.loadedModules && !facts.moduleLoaded(mod));
          if (missing.length) why.push(`it needs ${s.modules.join(", ")}; not loaded now: ${missing.join(", ")}`);
          else why.push(`it uses ${s.matches.length ? s.matches.map((x) => `-m ${x}`).join(" ") : "no extension match"}${s.target ? ` -j ${s.target}` : ""}`);
        }
      } else if (s.kind === "commit") {
        why.push(`line ${s.line} is the COMMIT of table ${s.table ?? "?"}: the kernel refused the table as a whole`);
        if (enomem.length || tableInit.length) {
          why.push("with \"Memory allocation problem\" (see ruleset-too-large)");
          causeIds.add("ruleset-too-large");
        }
        if (xtErrors.length) why.push(`the kernel said: "${xtErrors[0]!.text}"`);
      } else why.push(`line ${s.line} is ${s.kind === "other" ? "not a valid iptables-restore line" : `a ${s.kind} line`}`);
      explanations.push(`line ${s.line} \`${s.text.trim()}\`: ${why.join("; ")}`);
    }
    for (const u of units.slice(0, 3)) evidence.push(facts.eventEvidence(u, u.fields.unit, "the firewall service failed"));

    const liveRules = primaryLiveStats(facts).filter((s) => !s.netns).reduce((n, s) => n + s.rules, 0);
    const hasLive = ruleSetStats(facts).some((s) => s.live && !s.netns);
    const savedRules = files.reduce((n, f) => n + f.rules, 0);
    const noFirewall = hasLive && liveRules === 0 && savedRules > 0;

    const severity: DetectedFinding["severity"] = noFirewall || groups.size > 0 || units.length > 0 ? "high" : "medium";
    const conf = new Confidence(failures.length ? 0.6 : 0.5, failures.length ? "the restore reported the failing line" : "a firewall service failed");
    if ([...groups.values()].some((g) => g.saved)) conf.add(0.2, "the line was found in the saved rules file");
    if (causeIds.size) conf.add(0.1, "the tool's own messages say why the line fails");
    if (noFirewall) conf.add(0.1, `no live rules while the saved file holds ${savedRules}: the restore did not happen`);
    if (failures.length && files.length === 0) conf.add(-0.1, "the saved rules file is not in the bundle: the line cannot be shown");
    if (hasLive && liveRules > 0 && savedRules > 0 && liveRules >= savedRules) conf.add(-0.2, "the live rule set is complete now: the failure may be old or fixed since");

    const firstGroup = [...groups.values()][0];
    const file = firstGroup?.saved?.path ?? files[0]?.path;
    const shortPath = (p: string) => "/" + p.split("/").slice(1).join("/").replace(/^files\//, "");
    const hostPath = file ? shortPath(file) : "/etc/iptables/rules.v4";
    const fam = firstGroup?.family ?? "ipv4";
    const restoreCmd = `${iptablesCommand(firstGroup?.saved?.backend === "legacy" ? "iptables-legacy-save" : "iptables-save", fam)}-restore`;
    const unit = units[0]?.fields.unit ?? (facts.distroFamily === "rhel" ? (fam === "ipv6" ? "ip6tables.service" : "iptables.service") : "netfilter-persistent.service");

    const fixes: DetectedFinding["fixes"] = [];
    if (firstGroup?.saved) {
      const s = firstGroup.saved;
      const needsModule = [...badModules];
      // Other lines of the file that need the same missing module fail next: disable them together.
      const sameCause: number[] = [s.line];
      const src = facts.sources("saved-rules").find((x) => x.path === s.path);
      if (src && needsModule.length)
        for (const t of src.value.tables)
          for (const r of t.rules) {
            if (r.provenance.line === s.line) continue;
            const mods = modulesForRule({ table: t.name, family: s.family, matches: r.matches, ...(r.target ? { target: r.target } : {}) }, facts.kernel?.value.raw);
            if (mods.some((x) => badModules.has(x))) sameCause.push(r.provenance.line);
          }
      sameCause.sort((a, b) => a - b);
      fixes.push({
        title: `Fix line ${s.line} of ${hostPath}`,
        rationale: `${explanations[0] ?? `line ${s.line} is rejected`}. ${needsModule.length ? `Install or load ${needsModule.join(", ")} (see missing-extension-module), or ` : ""}comment ${sameCause.length > 1 ? `lines ${sameCause.join(", ")} (they need the same module)` : "the line"} out so the rest of the firewall loads; the restore is atomic, so today none of ${s.table ? `table ${s.table}` : "the file"} is applied.`,
        commands: [
          `cp ${hostPath} ${hostPath}.nfdiag-bak`,
          `${restoreCmd} --test < ${hostPath}   # reproduces: line ${s.line}`,
          ...(needsModule.length ? needsModule.map((mod) => `modprobe ${mod}   # if this works, no edit is needed`) : []),
          `sed -i ${sameCause.map((n) => `-e '${n}s/^/# nfdiag: disabled, failed to restore: /'`).join(" ")} ${hostPath}   # only if the module cannot be had`,
          `${restoreCmd} --test < ${hostPath} && ${restoreCmd} < ${hostPath}`,
          `systemctl restart ${unit}`,
        ],
        persist: [`${hostPath} is the persistent copy: the edit above is the persistence`],
        verify: [`${restoreCmd} --test < ${hostPath}; echo $?   # 0`, `systemctl is-active ${unit}`, `${restoreCmd.replace("-restore", "-save")} | grep -c '^-A'   # the saved rules are live`],
        rollback: [`cp ${hostPath}.nfdiag-bak ${hostPath}`],
        risk: "medium: commenting a rule out changes the firewall (here the rule is not active anyway, because the restore failed); prefer providing the module.",
        cureLikelihood: needsModule.length ? 0.8 : 0.7,
      });
    } else {
      fixes.push({
        title: "Find the failing line of the saved rules",
        rationale: files.length ? "The failing line number was not found in the saved file in the bundle." : "The saved rules file is not in the bundle; test it on the host.",
        commands: [`${restoreCmd} --test < ${hostPath}`, `journalctl -u ${unit} -b --no-pager | tail -n 30`],
        persist: [],
        verify: [`${restoreCmd} --test < ${hostPath}; echo $?   # 0`],
        rollback: [],
        risk: "low: --test changes nothing.",
        cureLikelihood: 0.3,
      });
    }

    const times = timeRange([...failures, ...units]);
    const summaryParts: string[] = [];
    if (units.length) summaryParts.push(`${[...new Set(units.map((u) => u.fields.unit))].join(", ")} failed.`);
    if (groups.size) summaryParts.push(`The restore of the saved rules stopped at ${[...groups.values()].map((g) => `line ${g.lineNo}${g.events.length > 1 ? ` (${g.events.length}×)` : ""}`).join(", ")}${file ? ` of ${hostPath}` : ""}.`);
    if (explanations.length) summaryParts.push(`${explanations[0]!.charAt(0).toUpperCase()}${explanations[0]!.slice(1)}.`);
    if (noFirewall) summaryParts.push(`No rule is live now although the saved file holds ${savedRules}: the host runs without its firewall.`);

    return [
      {
        severity,
        ...conf.toFinding(),
        summary: summaryParts.join(" "),
        mechanism:
          "iptables-restore reads the whole file and hands each table to the kernel at its COMMIT line (legacy: one x_tables blob per table; nft backend: one netlink batch for the file). One line it cannot parse, or a match whose kernel module is missing, aborts the table or batch: none of its rules are applied, the previous rules (or none, at boot) stay, and the unit that ran the restore (netfilter-persistent, iptables.service) is marked failed. The line number points at the culprit; the reason is in the tool's message just before it.",
        evidence,
        ruledOutBy: ["a later restore succeeded (the live rules match the saved file)", "the failing line has been fixed in the saved file since the failure was logged"],
        metrics: {
          failingLines: [...groups.values()].map((g) => g.lineNo).join(",") || null,
          restoreFailures: failures.length,
          failedUnits: units.length,
          savedFile: file ?? null,
          savedRules,
          liveRules: hasLive ? liveRules : null,
          cause: [...causeIds].join(",") || null,
          missingModules: [...badModules].join(",") || null,
        },
        ...(times ? { firstSeen: times.first, lastSeen: times.last } : {}),
        fixes,
      },
    ];
  },
};
