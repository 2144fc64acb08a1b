/**
 * ipset-oversized: a set is full (maxelem reached), close to full, very large in memory, or
 * referenced by nothing. kernel-facts.md §1.13 (kernel "Set %s is full, maxelem %u reached",
 * userspace "Hash is full, cannot add more elements"; defaults maxelem 65536, hashsize 1024).
 */
import { Confidence } from "../src/engine/confidence.js";
import { hasLiveRuleSource, liveRules } from "../src/engine/lib/rulesets.js";
import { nextPow2, shq } from "../src/engine/lib/ruleset-stats.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";
import type { Ipset } from "../src/parsers/ipset.js";

const ID = "ipset-oversized";
export const NEAR_FULL = 0.9;
export const LARGE_BYTES = 64 * 1024 * 1024;

interface SetView {
  name: string;
  /** The richest record (list output has references/size; save has every option). */
  list?: Ipset & { sourcePath: string };
  save?: Ipset & { sourcePath: string };
  entries: number;
  maxelem?: number;
  type?: string;
}

function mergedSets(facts: Facts): SetView[] {
  const by = new Map<string, SetView>();
  for (const p of facts.sources("ipset")) {
    if (p.netns) continue;
    for (const s of p.value.sets) {
      let v = by.get(s.name);
      if (!v) by.set(s.name, (v = { name: s.name, entries: 0 }));
      const rec = { ...s, sourcePath: p.path };
      if (p.value.format === "list") v.list ??= rec;
      else v.save ??= rec;
      v.entries = Math.max(v.entries, s.entriesDeclared ?? 0, s.entries);
      v.maxelem ??= s.maxelem;
      v.type ??= s.type;
    }
  }
  return [...by.values()];
}

function createOptions(s: Ipset): string {
  const keep = ["family", "hashsize", "timeout", "netmask", "markmask", "counters", "comment", "skbinfo", "forceadd", "range"];
  return keep
    .filter((k) => k in s.options)
    .map((k) => (s.options[k] === "" ? k : `${k} ${s.options[k]}`))
    .join(" ");
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "IP set full or oversized",
    category: "ipset",
    defaultSeverity: "high",
    docs: {
      description:
        "Finds ipsets that reached maxelem (\"Hash is full, cannot add more elements\", kernel \"Set X is full, maxelem N reached\"), sets at 90% of maxelem or more, sets taking a lot of kernel memory, and sets no rule references.",
      mechanism:
        "A hash set grows its hash table as entries are added, up to maxelem (default 65536, fixed at creation and not changeable in place); past it every add fails, so blocklist updates silently stop adding addresses. Sets live in kernel memory whether or not a rule uses them.",
      signals: [
        "ipset-hash-full: `ipset v7.x: Hash is full, cannot add more elements` (syslog of the updating script)",
        "ipset-full: kernel `Set X is full, maxelem N reached`; ipset-resize-failed `Cannot increase the hashsize of set X further`",
        "ipset list / save: Number of entries vs maxelem, Size in memory, References",
        "rules with `-m set --match-set X` (references 0 and no rule names the set = unused)",
      ],
      references: ["kernel-facts.md §1.13", "seed 000 §3 (large or numerous ipset entries)"],
    },
    explains: [],
  },

  detect(facts) {
    const sets = mergedSets(facts);
    const kFull = facts.kernelEvents("ipset-full");
    const uFull = facts.kernelEvents("ipset-hash-full");
    const resize = facts.kernelEvents("ipset-resize-failed");
    // The live rules as one text, built only when a set is checked for users (200,000 rules on big hosts).
    let ruleTextMemo: string | undefined | null = null;
    const ruleText = (): string | undefined =>
      ruleTextMemo === null
        ? (ruleTextMemo = hasLiveRuleSource(facts) ? liveRules(facts).map((r) => `${r.detail} ${r.targetOptions ?? ""}`).join("\n") : undefined)
        : ruleTextMemo;

    const findings: DetectedFinding[] = [];
    const fullNames = new Set<string>([...kFull.map((e) => e.fields.set), ...resize.map((e) => e.fields.set)]);
    for (const s of sets) if (s.maxelem && s.entries >= s.maxelem) fullNames.add(s.name);
    // A userspace "Hash is full" without a name belongs to the one full set when there is one.
    if (uFull.length && fullNames.size === 0) {
      const near = sets.filter((s) => s.maxelem && s.entries >= s.maxelem * NEAR_FULL);
      if (near.length === 1) fullNames.add(near[0]!.name);
    }
    const byName = new Map(sets.map((s) => [s.name, s]));
    for (const name of fullNames) if (!byName.has(name)) byName.set(name, { name, entries: 0 });

    for (const s of byName.values()) {
      const rec = s.list ?? s.save;
      const maxelem = s.maxelem ?? kFull.find((e) => e.fields.set === s.name)?.fields.maxelem;
      const ratio = maxelem ? s.entries / maxelem : 0;
      const full = fullNames.has(s.name);
      const near = !full && ratio >= NEAR_FULL;
      const size = s.list?.sizeInMemory;
      const large = (size ?? 0) >= LARGE_BYTES;
      const refs = s.list?.references;
      const text = ruleText();
      const named = text !== undefined ? new RegExp(`(match-set|map-set|add-set|del-set)\\s+${s.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(text) : undefined;
      const inListSet = sets.some((o) => o.type === "list:set" && [...(o.save?.members ?? []), ...(o.list?.members ?? [])].some((m) => m.split(" ")[0] === s.name));
      const unused = refs === 0 && named === false && !inListSet;
      if (!full && !near && !large && !unused) continue;

      const evidence: Evidence[] = [];
      const kev = kFull.filter((e) => e.fields.set === s.name);
      for (const e of kev.slice(0, 2)) evidence.push(facts.eventEvidence(e, `Set ${s.name} is full`, `the kernel refused an add: maxelem ${e.fields.maxelem} reached`));
      for (const e of uFull.slice(0, full ? 2 : 0)) evidence.push(facts.eventEvidence(e, "Hash is full", "the update that failed"));
      for (const e of resize.filter((x) => x.fields.set === s.name).slice(0, 1)) evidence.push(facts.eventEvidence(e, "Cannot increase the hashsize", "the hash could not grow"));
      if (rec) {
        evidence.push(facts.evidence("ipset", { path: rec.sourcePath, line: rec.provenance.line }, `${rec.name} ${rec.type ?? ""}`, { note: `set ${s.name}: ${s.entries.toLocaleString("en-US")} entries${maxelem ? ` of maxelem ${maxelem.toLocaleString("en-US")} (${Math.round(ratio * 100)}%)` : ""}${size !== undefined ? `, ${size.toLocaleString("en-US")} bytes in memory` : ""}${refs !== undefined ? `, ${refs} reference${refs === 1 ? "" : "s"}` : ""}` }));
        if (s.list && s.save && s.save !== rec) evidence.push(facts.evidence("ipset", { path: s.save.sourcePath, line: s.save.provenance.line }, `create ${s.name}`, { note: "the set's creation options" }));
        if (s.list) {
          const hdr = findLine(facts, s.list.sourcePath, s.list.provenance.line, /^(Number of entries|Header):/);
          for (const h of hdr) evidence.push(h);
        }
      }
      if (unused) {
        const rs = facts.sources("ipset").find((p) => p.value.format === "list");
        if (rs) evidence.push(...findLine(facts, rs.path, s.list!.provenance.line, /^References: 0/).map((e) => ({ ...e, note: `no rule references ${s.name} and none of the collected rules names it` })));
      }

      let severity: DetectedFinding["severity"] = full ? "high" : near ? "medium" : "low";
      const conf = new Confidence(full ? 0.7 : near ? 0.6 : 0.5, full ? "the set is at maxelem or the kernel said it is full" : near ? `${Math.round(ratio * 100)}% of maxelem` : unused ? "the set has no reference" : "the set is large in memory");
      if (kev.length && s.maxelem && s.entries >= s.maxelem) conf.add(0.2, "the kernel message and the set's entry count agree");
      else if (kev.length) conf.add(0.1, "the kernel named the set");
      if (uFull.length && full) conf.add(0.05, "an update failed with \"Hash is full\"");
      if (!rec) conf.add(-0.15, "the set listing is not in the bundle: its size is known only from the log");
      if (unused && !full && !near) severity = "low";

      const metrics: DetectedFinding["metrics"] = { set: s.name, type: s.type ?? null, entries: s.entries, maxelem: maxelem ?? null, fill: maxelem ? Math.round(ratio * 1000) / 1000 : null, sizeInMemory: size ?? null, references: refs ?? null, kernelFullMessages: kev.length, hashFullMessages: uFull.length, unused };
      const fixes: DetectedFinding["fixes"] = [];
      const persistFile = facts.distroFamily === "rhel" ? "/etc/sysconfig/ipset" : "/etc/iptables/ipsets";
      if ((full || near) && maxelem) {
        const newMax = maxelem < 65536 ? Math.max(65536, nextPow2(maxelem * 4)) : nextPow2(maxelem * 4);
        const tmp = `${s.name}-nfdiag`.slice(0, 31);
        const opts = rec ? createOptions(s.save ?? rec) : "family inet";
        metrics.proposedMaxelem = newMax;
        fixes.push({
          title: `Recreate ${s.name} with maxelem ${newMax.toLocaleString("en-US")} and swap it in`,
          rationale: `${s.name} holds ${s.entries.toLocaleString("en-US")} of at most ${maxelem.toLocaleString("en-US")} entries; ipset cannot change maxelem of an existing set, so build a bigger copy and \`ipset swap\` it in: rules keep referring to the name and never see an empty set. maxelem is only a ceiling — a hash set's memory grows with its entries, not with maxelem.`,
          commands: [
            `ipset save ${shq(s.name)} > /root/ipset-${s.name}.before`,
            `ipset create ${tmp} ${s.type ?? "hash:ip"} ${opts} maxelem ${newMax}`.replace(/\s+/g, " "),
            `ipset save ${shq(s.name)} | sed -n 's/^add ${s.name} /add ${tmp} /p' | ipset restore`,
            `ipset swap ${s.name} ${tmp}`,
            `ipset destroy ${tmp}`,
            "# then re-run the update that failed (it stopped at the first address over the limit)",
          ],
          persist: [`ipset save > ${persistFile}`, `grep -rn 'maxelem ${maxelem}' /etc /usr/local 2>/dev/null   # fix the script or file that creates ${s.name}, or the old limit comes back at boot`],
          verify: [`ipset list ${s.name} -t   # Header: … maxelem ${newMax}; Number of entries grows past ${maxelem}`],
          rollback: [`sed 's/\\b${s.name}\\b/${tmp}/' /root/ipset-${s.name}.before | ipset restore && ipset swap ${s.name} ${tmp} && ipset destroy ${tmp}`],
          risk: "low: the swap is atomic and rules keep matching; the new set takes memory only for the entries actually added.",
          cureLikelihood: 0.9,
        });
      }
      if (unused)
        fixes.push({
          title: `Destroy the unused set ${s.name}`,
          rationale: `${s.name} has ${refs} references and no collected rule names it: its ${size !== undefined ? `${size.toLocaleString("en-US")} bytes` : "memory"} and its updates serve nothing.`,
          commands: [`ipset list ${s.name} -t | grep References   # must be 0`, `ipset save ${shq(s.name)} > /root/ipset-${s.name}.before`, `ipset destroy ${s.name}`],
          persist: [`ipset save > ${persistFile}`, `remove ${s.name} from whatever creates it at boot`],
          verify: [`ipset list ${s.name}   # The set with the given name does not exist`],
          rollback: [`ipset restore < /root/ipset-${s.name}.before`],
          risk: "low: ipset refuses to destroy a set still in use (\"Set cannot be destroyed: it is in use by a kernel component\").",
          cureLikelihood: 0.5,
        });

      const times = [...kev, ...uFull].map((e) => e.wallTime).filter((t): t is string => !!t).sort();
      const parts: string[] = [];
      if (full) parts.push(`IP set ${s.name} is full: ${s.entries ? `${s.entries.toLocaleString("en-US")} entries, ` : ""}maxelem ${maxelem?.toLocaleString("en-US") ?? "?"} reached${kev.length ? ` (kernel: "Set ${s.name} is full" ×${kev.length})` : ""}${uFull.length ? `; ${uFull.length} update${uFull.length > 1 ? "s" : ""} failed with "Hash is full, cannot add more elements"` : ""}: new addresses are not added, so ${refs ? "the rules using it miss them" : "the set stops growing"}.`);
      else if (near) parts.push(`IP set ${s.name} is at ${Math.round(ratio * 100)}% of maxelem (${s.entries.toLocaleString("en-US")} of ${maxelem!.toLocaleString("en-US")}): the next large update will fail with "Hash is full".`);
      if (large) parts.push(`${s.name} takes ${(size! / 1048576).toFixed(0)} MiB of kernel memory.`);
      if (unused) parts.push(`${s.name} is referenced by no rule (References: 0, no --match-set ${s.name} in the rules).`);
      findings.push({
        title: full ? `IP set ${s.name} is full` : near ? `IP set ${s.name} is nearly full` : unused ? `IP set ${s.name} is unused` : `IP set ${s.name} is large`,
        severity,
        ...conf.toFinding(),
        summary: parts.join(" "),
        mechanism:
          "maxelem is fixed when a set is created (default 65536) and `ipset` cannot change it in place; a hash set grows its table (hashsize doubles) as entries arrive until maxelem, then every add fails: the kernel prints `Set X is full, maxelem N reached` and the tool `Hash is full, cannot add more elements`, and an `ipset restore` stops at that line, so the rest of the update is lost. Rules with `-m set --match-set X` keep working with the old content — a blocklist silently stops blocking new addresses.",
        evidence,
        ruledOutBy: ["the set is meant to be capped (forceadd or a deliberate small maxelem) and the failed adds are expected", "the set was rebuilt with a larger maxelem after the messages were logged (check `ipset list -t` now)"],
        metrics,
        ...(times[0] ? { firstSeen: times[0] } : {}),
        ...(times.length ? { lastSeen: times[times.length - 1]! } : {}),
        fixes,
      });
    }
    return findings;
  },
};

/** Evidence for lines just below a set header that match a pattern (`Number of entries: …`). */
function findLine(facts: Facts, path: string, from: number, re: RegExp): Evidence[] {
  const out: Evidence[] = [];
  for (let n = from; n < from + 12; n++) {
    const t = facts.lineText(path, n);
    if (t === undefined || (n > from && t.startsWith("Name: "))) break;
    if (re.test(t)) out.push(facts.evidence("ipset", { path, line: n }, t, { highlight: t.split(":")[0] ?? t }));
  }
  return out;
}
