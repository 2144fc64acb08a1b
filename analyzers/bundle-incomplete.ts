/**
 * bundle-incomplete: what this bundle cannot tell, and which conclusions that leaves unchecked:
 * collector timeouts, truncation, budget skips and modules loaded during the collection
 * (manifest.json), sos skipped commands and timeouts (sos_logs/sos.log, sos_reports/manifest.json),
 * missing or cut sources, partial `conntrack -S`, a ring buffer that no longer starts at boot.
 * A source skipped because its module was not loaded is not a gap: there is nothing to collect.
 */
import { Confidence } from "../src/engine/confidence.js";
import { hasLiveRuleSource } from "../src/engine/lib/rulesets.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "bundle-incomplete";
/** Skip reasons that mean "nothing to collect", not a gap. */
const BENIGN_SKIP = /would load the module|replaced by|no dpkg, rpm or apk|systemd is not running/;

interface Gap {
  what: string;
  /** Conclusions that cannot be checked because of it. */
  affects: string[];
  evidence: Evidence[];
  /** Affects a netfilter conclusion (low) or not (info). */
  matters: boolean;
  option?: string;
}

/** Table/backend modules: when they are not loaded, the matching listing would be empty. */
const NF_TABLE_MODULE = /^(nf_tables|nfnetlink|ip6?_tables|ip6?table_\w+|iptable_\w+|ebtables|ebtable_\w+|arp_tables|arptable_\w+|ip_set|nf_conntrack(_netlink)?)$/;

const RULE_SOURCES = ["iptables-save", "iptables-legacy-save", "iptables-nft-save", "nft-ruleset", "iptables-list"] as const;

function manifestEv(path: string, text: string, note: string): Evidence {
  return { source: "collector-manifest", path, text, note };
}

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "The bundle cannot support some conclusions",
    category: "bundle",
    defaultSeverity: "low",
    docs: {
      description:
        "Lists what the bundle is missing or has only in part, and which conclusions that leaves unchecked: collector commands that timed out, were cut at --max-file-bytes or skipped when the --max-seconds budget ran out, modules loaded while collecting, sos commands skipped for missing kernel modules and sos timeouts, sources absent or truncated, a partial `conntrack -S`, and a kernel ring buffer that no longer starts at boot.",
      mechanism:
        "Collectors run with time and size limits and avoid commands that would load kernel modules; sos skips commands whose modules are missing unless --allow-system-changes. What is not collected cannot be checked: an absent rule listing is not \"no rules\", a missing counter file is not \"no drops\".",
      signals: [
        "collector manifest.json: commands[] timed_out / truncated / skipped + skip_reason, files[] truncated / timed_out / unreadable, modules.changed + added, permission_denied, is_root",
        "sos_logs/sos.log: `skipped command '…': required kmods missing: …`, `command '…' timed out after Ns`, `Plugin … timed out`",
        "sos_reports/manifest.json: timeout_hit, truncated",
        "source statuses (absent / skipped / truncated / error) of the sources conclusions need",
        "conntrack -S fallback of conntrack-tools ≤ 1.4.4 (CPU 0 only)",
        "dmesg whose first message is not at uptime 0",
      ],
      references: ["bundle-layouts.md", "docs/collector-layout.md", "kernel-facts.md §3.2 (conntrack -S fallback)"],
    },
    explains: [],
  },

  detect(facts) {
    const gaps: Gap[] = [];
    const manifest = facts.first("collector-manifest");
    const m = manifest?.value;
    const mpath = manifest?.path ?? "manifest.json";

    // ---- Our collector's own record.
    if (m) {
      const budget = m.commands.filter((c) => c.skipped && /time budget/.test(c.skip_reason ?? ""));
      if (budget.length)
        gaps.push({
          what: `${budget.length} command${budget.length > 1 ? "s were" : " was"} skipped because the --max-seconds ${m.options.max_seconds} budget ran out (${budget.map((c) => c.argv.join(" ")).slice(0, 6).join("; ")})`,
          affects: affectsOfCommands(budget.map((c) => c.output)),
          evidence: budget.slice(0, 4).map((c) => manifestEv(mpath, `"output": "${c.output}", "skipped": true, "skip_reason": "${c.skip_reason}"`, `\`${c.argv.join(" ")}\` not run`)),
          matters: true,
          option: `--max-seconds ${Math.max(600, m.options.max_seconds * 4)}`,
        });
      const otherSkips = m.commands.filter((c) => c.skipped && !BENIGN_SKIP.test(c.skip_reason ?? "") && !/time budget/.test(c.skip_reason ?? ""));
      if (otherSkips.length)
        gaps.push({
          what: `${otherSkips.length} command${otherSkips.length > 1 ? "s were" : " was"} skipped: ${otherSkips.slice(0, 4).map((c) => `${c.argv.join(" ")} (${c.skip_reason})`).join("; ")}`,
          affects: affectsOfCommands(otherSkips.map((c) => c.output)),
          evidence: otherSkips.slice(0, 3).map((c) => manifestEv(mpath, `"output": "${c.output}", "skipped": true, "skip_reason": "${c.skip_reason}"`, `\`${c.argv.join(" ")}\` not run`)),
          matters: affectsOfCommands(otherSkips.map((c) => c.output)).length > 0,
        });
      const timedOut = [...m.commands.filter((c) => c.timed_out).map((c) => ({ name: c.argv.join(" "), out: c.output })), ...m.files.filter((f) => f.timed_out).map((f) => ({ name: f.path, out: f.stored ?? f.path }))];
      if (timedOut.length)
        gaps.push({
          what: `${timedOut.length} capture${timedOut.length > 1 ? "s" : ""} timed out after ${m.options.timeout_seconds} s (${timedOut.slice(0, 5).map((x) => x.name).join("; ")}): their output is partial`,
          affects: affectsOfCommands(timedOut.map((x) => x.out)),
          evidence: timedOut.slice(0, 3).map((x) => manifestEv(mpath, `"output": "${x.out}", "timed_out": true`, `${x.name} stopped by the per-command timeout`)),
          matters: true,
          option: `--timeout ${Math.max(120, m.options.timeout_seconds * 4)}`,
        });
      const cut = [...m.commands.filter((c) => c.truncated).map((c) => ({ name: c.argv.join(" "), out: c.output, bytes: c.bytes })), ...m.files.filter((f) => f.truncated).map((f) => ({ name: f.path, out: f.stored ?? f.path, bytes: f.bytes }))];
      if (cut.length) {
        const logCut = cut.filter((x) => /dmesg|kern\.log|syslog|messages|journal/.test(x.out));
        gaps.push({
          what: `${cut.length} capture${cut.length > 1 ? "s were" : " was"} cut at --max-file-bytes ${m.options.max_file_bytes.toLocaleString("en-US")} (${cut.slice(0, 6).map((x) => x.name).join("; ")})${logCut.some((x) => /dmesg/.test(x.out)) ? (dmesgKeepsHead(m.collector_version) ? ": the dmesg copy keeps only its first bytes, so the most recent kernel messages are missing" : ": the dmesg copy keeps its newest bytes, so the oldest kernel messages (boot, module loads) are missing") : ""}`,
          affects: affectsOfCommands(cut.map((x) => x.out)),
          evidence: cut.slice(0, 4).map((x) => manifestEv(mpath, `"output": "${x.out}", "bytes": ${x.bytes}, "truncated": true`, `${x.name} cut at ${m.options.max_file_bytes} bytes`)),
          matters: true,
          option: `--max-file-bytes ${Math.max(33554432, m.options.max_file_bytes * 64)}`,
        });
      }
      if (m.modules.changed)
        gaps.push({
          what: `MODULES WERE LOADED DURING THE COLLECTION (${[...m.modules.added.map((x) => `+${x}`), ...m.modules.removed.map((x) => `-${x}`)].join(", ") || "see manifest"}): the bundle shows the host after that change, and loading e.g. nf_conntrack can itself start connection tracking`,
          affects: ["conntrack-loaded-unused (a module may have been loaded by the collection, not by the host)", "missing-extension-module"],
          evidence: [manifestEv(mpath, `"changed": true, "added": ${JSON.stringify(m.modules.added)}, "removed": ${JSON.stringify(m.modules.removed)}`, "modules loaded/unloaded between the start and the end of the collection")],
          matters: true,
        });
      if (m.permission_denied.length || !m.is_root)
        gaps.push({
          what: `the collector ran as ${m.user || `uid ${m.uid}`}${m.is_root ? "" : " (not root)"}${m.permission_denied.length ? `; permission denied: ${m.permission_denied.slice(0, 6).join(", ")}` : ""}`,
          affects: ["rules (iptables-save needs root)", "conntrack counters and table", "kernel log"],
          evidence: [manifestEv(mpath, `"uid": ${m.uid}, "is_root": ${m.is_root}, "permission_denied": ${JSON.stringify(m.permission_denied.slice(0, 6))}`, "who ran the collector")],
          matters: true,
          option: "(as root)",
        });
    }

    // ---- sosreport.
    const sosLog = facts.first("sos-log");
    if (sosLog) {
      const sk = sosLog.value.skipped;
      if (sk.length) {
        // A netfilter command skipped because its own table/backend module is not loaded has nothing
        // to show (no module, no rules): like the collector's gating, it is not a gap.
        const nothingThere = (s: (typeof sk)[number]) => s.missingKmods.length > 0 && s.missingKmods.every((k) => NF_TABLE_MODULE.test(k));
        const nf = sk.filter((s) => /iptables|nft|conntrack|ipset|ebtables|lsmod|dmesg|sysctl/.test(s.command) && !nothingThere(s));
        gaps.push({
          what: `sos skipped ${sk.length} command${sk.length > 1 ? "s" : ""}: ${sk.map((s) => `\`${s.command}\` (${s.missingKmods.length ? `kernel modules ${s.missingKmods.join(", ")} not loaded` : s.missingServices.length ? `services ${s.missingServices.join(", ")} not running` : s.reason})`).join("; ")}`,
          affects: nf.length ? affectsOfCommands(nf.map((s) => s.command)) : [],
          evidence: sk.slice(0, 6).map((s) => facts.evidence("sos-log", s.provenance, `skipped command '${s.command}': ${s.reason}`, { highlight: "skipped command", note: nf.includes(s) ? "a netfilter command sos did not run" : nothingThere(s) ? "its table module is not loaded: there is nothing to list" : "not needed by the netfilter conclusions" })),
          matters: nf.length > 0,
          option: "--allow-system-changes",
        });
      }
      const to = sosLog.value.timeouts;
      if (to.length)
        gaps.push({
          what: `sos timed out on ${to.map((t) => (t.command ? `\`${t.command}\`` : `plugin ${t.plugin}`)).join(", ")}`,
          affects: affectsOfCommands(to.map((t) => `${t.command ?? ""} ${t.plugin ?? ""}`)),
          evidence: to.slice(0, 3).map((t) => facts.evidence("sos-log", t.provenance, `${t.command ?? t.plugin} timed out`, { highlight: "timed out" })),
          matters: true,
          option: "--plugin-timeout 600",
        });
    }
    const sosMan = facts.first("sos-manifest");
    if (sosMan) {
      const bad = sosMan.value.commands.filter((c) => c.timeoutHit || c.truncated === true);
      if (bad.length)
        gaps.push({
          what: `sos manifest: ${bad.length} command${bad.length > 1 ? "s" : ""} ${bad.some((c) => c.timeoutHit) ? "timed out" : "were truncated"} (${bad.slice(0, 5).map((c) => c.exec).join("; ")})`,
          affects: affectsOfCommands(bad.map((c) => c.exec)),
          evidence: bad.slice(0, 3).map((c) => ({ source: "sos-manifest", path: sosMan.path, text: `"exec": "${c.exec}", "timeout_hit": ${c.timeoutHit}, "truncated": ${c.truncated}`, note: c.timeoutHit ? "stopped by sos's timeout" : "cut by sos's size limit" })),
          matters: true,
          option: "--plugin-timeout 600",
        });
    }

    // ---- Sources the conclusions need.
    const badStatus = (id: string) => {
      const st = facts.status(id as Parameters<Facts["status"]>[0]);
      return st && (st.status === "truncated" || st.status === "error" || (st.status === "skipped" && !BENIGN_SKIP.test(st.reason ?? "")) || (st.status === "absent" && facts.layout !== "loose")) ? st : undefined;
    };
    if (!hasLiveRuleSource(facts)) {
      const gated = RULE_SOURCES.map((id) => facts.status(id)).filter((s) => s?.status === "skipped" && BENIGN_SKIP.test(s.reason ?? ""));
      const allGated = gated.length > 0 && RULE_SOURCES.every((id) => { const s = facts.status(id); return !s || s.status === "skipped" && BENIGN_SKIP.test(s.reason ?? ""); }) && !(m && m.commands.some((c) => /iptables-legacy-save|iptables-save/.test(c.output) && c.skipped && /time budget/.test(c.skip_reason ?? "")));
      if (!allGated)
        gaps.push({
          what: "no live rule listing (iptables-save, iptables -L, nft list ruleset) is in the bundle",
          affects: ["conntrack-loaded-unused", "log-rule-flood", "ruleset-too-large", "iptables-backend-mismatch"],
          evidence: RULE_SOURCES.map((id) => badStatus(id)).filter((s): s is NonNullable<typeof s> => !!s).slice(0, 3).map((s) => ({ source: s.id, path: s.paths[0] ?? "(absent)", text: `${s.id}: ${s.status}${s.reason ? ` — ${s.reason}` : ""}`, note: "rule source not available" })),
          matters: true,
        });
    }
    const ctLoaded = facts.moduleLoaded("nf_conntrack") !== undefined || facts.conntrack.max !== undefined;
    if (ctLoaded && !facts.conntrackCounters)
      gaps.push({
        what: "no conntrack counters (`conntrack -S` or /proc/net/stat/nf_conntrack)",
        affects: ["conntrack-table-full (drops counted from log lines only, which are rate-limited)", "conntrack-insert-race", "conntrack-invalid-drops", "conntrack-hash-undersized (chaintoolong)"],
        evidence: (["conntrack-stats", "proc-stat-nf_conntrack"] as const).map((id) => facts.status(id)).filter((s): s is NonNullable<typeof s> => !!s).map((s) => ({ source: s.id, path: s.paths[0] ?? "(absent)", text: `${s.id}: ${s.status}${s.reason ? ` — ${s.reason}` : ""}` })),
        matters: true,
      });
    const cc = facts.conntrackCounters;
    if (cc?.partial)
      gaps.push({
        what: `the conntrack counters are partial: ${cc.partialReason ?? "some CPU rows are incomplete"}`,
        affects: ["conntrack-table-full / conntrack-insert-race drop counts (a lower bound)"],
        evidence: cc.evidence.slice(0, 2).map((e) => ({ ...e, note: e.note ?? "the only counter row present" })),
        matters: true,
      });
    const klogs = (["dmesg", "kernel-log", "journal"] as const).flatMap((id) => facts.sources(id).map((p) => ({ id, p })));
    if (klogs.length === 0)
      gaps.push({
        what: "no kernel log (dmesg, kern.log, messages, journal)",
        affects: ["every log-based conclusion: table full, allocation failures, neighbour overflow, restore failures, LOG floods"],
        evidence: (["dmesg", "kernel-log", "journal"] as const).map((id) => facts.status(id)).filter((s): s is NonNullable<typeof s> => !!s).map((s) => ({ source: s.id, path: s.paths[0] ?? "(absent)", text: `${s.id}: ${s.status}${s.reason ? ` — ${s.reason}` : ""}` })),
        matters: true,
      });
    else {
      const dm = klogs.filter((x) => x.id === "dmesg" && !x.p.value.startsAtBoot && x.p.value.firstUptime !== undefined);
      const otherFromBoot = klogs.some((x) => x.id !== "dmesg" && x.p.value.messageCount > 0);
      for (const d of dm.slice(0, 1)) {
        const first = d.p.value.messages[0];
        gaps.push({
          what: `the kernel ring buffer (dmesg) starts at uptime ${d.p.value.firstUptime} s, not at boot: older kernel messages were overwritten${otherFromBoot ? " (a syslog/journal copy is in the bundle and may still hold them)" : " and no syslog or journal copy is in the bundle"}`,
          affects: otherFromBoot ? [] : ["first occurrences and triggers of every log-based finding (module loads, the first drop)"],
          evidence: [facts.evidence("dmesg", { path: d.p.path, line: first?.provenance.line ?? 1 }, first?.raw ?? "", { note: "the oldest message left in the ring buffer" })],
          matters: !otherFromBoot,
        });
      }
    }
    if (!facts.loadedModules && facts.moduleSupport === "loadable")
      gaps.push({
        what: "no list of loaded modules (lsmod, /proc/modules)",
        affects: ["conntrack-loaded-unused", "missing-extension-module"],
        evidence: (["lsmod", "proc-modules"] as const).map((id) => facts.status(id)).filter((s): s is NonNullable<typeof s> => !!s).map((s) => ({ source: s.id, path: s.paths[0] ?? "(absent)", text: `${s.id}: ${s.status}${s.reason ? ` — ${s.reason}` : ""}` })),
        matters: true,
      });
    const sysctlSt = badStatus("sysctl");
    if (sysctlSt && !facts.has("sysctl"))
      gaps.push({
        what: `no \`sysctl -a\` (${sysctlSt.status}${sysctlSt.reason ? `: ${sysctlSt.reason}` : ""})${facts.has("proc-sys-netfilter") ? "; the /proc/sys/net/netfilter copies give the conntrack sizing, but not net.ipv4.neigh.* or other keys" : ""}`,
        affects: facts.has("proc-sys-netfilter") ? ["neighbour-table-overflow thresholds (gc_thresh*)", "conntrack-sysctl-not-applied (non-netfilter keys)"] : ["conntrack sizing (max, buckets)", "neighbour-table-overflow thresholds", "conntrack-sysctl-not-applied"],
        evidence: [{ source: "sysctl", path: sysctlSt.paths[0] ?? "(absent)", text: `sysctl: ${sysctlSt.status}${sysctlSt.reason ? ` — ${sysctlSt.reason}` : ""}` }],
        matters: true,
      });

    if (gaps.length === 0) return [];
    const matters = gaps.filter((g) => g.matters);
    const affects = [...new Set(matters.flatMap((g) => g.affects))];
    const evidence = gaps.flatMap((g) => g.evidence.slice(0, 3)).slice(0, 16);

    const opts = [...new Set(gaps.map((g) => g.option).filter((o): o is string => !!o && o.startsWith("--") && o !== "--allow-system-changes" && !o.startsWith("--plugin")))];
    const fixes: DetectedFinding["fixes"] = [];
    if (facts.layout === "nfdiag" || m) {
      fixes.push({
        title: "Collect again with larger limits",
        rationale: `The collector's limits cut this bundle${m ? ` (it ran with ${m.args.join(" ") || "default options"})` : ""}; larger limits keep what was lost. The collector never loads a kernel module.`,
        commands: [`${gaps.some((g) => g.option === "(as root)") ? "sudo " : ""}sh nfdiag-collect.sh -o /tmp${opts.length ? ` ${opts.join(" ")}` : ""}`],
        persist: [],
        verify: ["the new manifest.json has no timed_out/truncated commands and no \"time budget\" skips: `grep -c '\"truncated\": true' manifest.json`"],
        rollback: [],
        risk: "low: read-only; it takes longer and the bundle is larger.",
        cureLikelihood: 0.8,
      });
    }
    if (facts.layout === "sosreport") {
      const kmodSkips = sosLog?.value.skipped.filter((s) => s.missingKmods.length) ?? [];
      fixes.push({
        title: "Collect the missing netfilter data without loading modules",
        rationale: "Our collector runs every netfilter command whose module is already loaded and records what it skipped and why; it never loads a module, so it does not change the host the way `--allow-system-changes` can.",
        commands: ["sh nfdiag-collect.sh -o /tmp"],
        persist: [],
        verify: ["manifest.json lists every command with its exit code"],
        rollback: [],
        risk: "low: read-only.",
        cureLikelihood: 0.7,
      });
      if (kmodSkips.length || gaps.some((g) => g.option === "--plugin-timeout 600"))
        fixes.push({
          title: "Re-run sos for the skipped commands",
          rationale: `${kmodSkips.length ? `sos skipped ${kmodSkips.map((s) => `\`${s.command}\``).join(", ")} because ${[...new Set(kmodSkips.flatMap((s) => s.missingKmods))].join(", ")} ${kmodSkips.length > 1 ? "were" : "was"} not loaded. --allow-system-changes lets sos run them, but that LOADS the modules: for netfilter commands (iptables, nft, conntrack) it can create tables and start connection tracking — never use it on a host whose problem may be a module loaded by accident. ` : ""}${gaps.some((g) => g.option === "--plugin-timeout 600") ? "A larger plugin timeout lets slow plugins finish." : ""}`,
          commands: [
            `sos report --batch --all-logs -o networking,kernel,logs,memory${gaps.some((g) => g.option === "--plugin-timeout 600") ? " --plugin-timeout 600" : ""}`,
            ...(kmodSkips.length ? ["# only if loading the modules is acceptable: sos report --batch --all-logs -o networking,kernel,logs,memory --allow-system-changes"] : []),
            "# restrict namespaces on hosts with many: -k networking.namespaces=<N>",
          ],
          persist: [],
          verify: ["sos_logs/sos.log has no `skipped command` line for the commands needed"],
          rollback: [],
          risk: kmodSkips.length ? "medium with --allow-system-changes (modules get loaded), low without" : "low",
          cureLikelihood: 0.5,
        });
    }
    if (cc?.partial)
      fixes.push({
        title: "Read the per-CPU counters from /proc",
        rationale: "conntrack-tools ≤ 1.4.4 prints only CPU 0 when it falls back to /proc; the file itself has one row per CPU.",
        commands: ["cat /proc/net/stat/nf_conntrack"],
        persist: [],
        verify: ["one hexadecimal row per CPU"],
        rollback: [],
        risk: "low",
        cureLikelihood: 0.6,
      });
    if (gaps.some((g) => /ring buffer/.test(g.what) && g.matters))
      fixes.push({
        title: "Keep the kernel log from boot",
        rationale: "The ring buffer was overwritten; the journal or kern.log keeps older kernel messages.",
        commands: ["journalctl -k -b --no-pager > /tmp/kernel-since-boot.log", "cp /var/log/kern.log* /tmp/ 2>/dev/null"],
        persist: ["mkdir -p /var/log/journal   # persistent journal"],
        verify: ["the copy starts at the boot"],
        rollback: [],
        risk: "low",
        cureLikelihood: 0.5,
      });

    const conf = new Confidence(0.8, "read from the bundle's own records (manifest, sos log, source statuses)");
    const severity: DetectedFinding["severity"] = matters.length ? "low" : "info";
    const loud = m?.modules.changed ? "MODULES WERE LOADED DURING THE COLLECTION. " : "";
    return [
      {
        severity,
        ...conf.toFinding(),
        summary: `${loud}${gaps.length} gap${gaps.length > 1 ? "s" : ""} in the bundle: ${gaps.map((g) => g.what.replace(/^MODULES WERE LOADED DURING THE COLLECTION /, "modules were loaded during the collection ")).join("; ")}.${affects.length ? ` Not checked because of this: ${affects.join("; ")}.` : " None of them affects a netfilter conclusion."}`,
        mechanism:
          "Collectors run under time and size limits and avoid commands that would load kernel modules (sos skips them unless --allow-system-changes; our collector gates them on the module being loaded). A command cut short, skipped or timed out leaves its source partial or absent, and an absent source is unknown, not empty: a conclusion that needs it is left unchecked rather than assumed healthy.",
        evidence,
        ruledOutBy: ["the missing data is not needed for the question asked (e.g. sos skipped macsec or socket-diag commands)"],
        metrics: {
          gaps: gaps.length,
          gapsAffectingConclusions: matters.length,
          modulesChanged: m?.modules.changed ?? null,
          timedOut: m ? m.commands.filter((c) => c.timed_out).length + m.files.filter((f) => f.timed_out).length : null,
          truncated: m ? m.commands.filter((c) => c.truncated).length + m.files.filter((f) => f.truncated).length : null,
          budgetSkips: m ? m.commands.filter((c) => c.skipped && /time budget/.test(c.skip_reason ?? "")).length : null,
          sosSkipped: sosLog?.value.skipped.length ?? null,
          sosTimeouts: sosLog?.value.timeouts.length ?? null,
          countersPartial: cc?.partial ?? null,
        },
        fixes,
      },
    ];
  },
};

/** Which conclusions a set of command outputs / commands feed. */
function affectsOfCommands(outs: string[]): string[] {
  const a = new Set<string>();
  for (const o of outs) {
    if (/iptables|nft|ip6tables/.test(o)) ["conntrack-loaded-unused", "log-rule-flood", "ruleset-too-large", "iptables-backend-mismatch"].forEach((x) => a.add(x));
    if (/dmesg|kern\.log|syslog|messages|journal/.test(o)) a.add("log-based conclusions (latest kernel messages)");
    if (/conntrack_-S|stat_nf_conntrack|stat\/nf_conntrack/.test(o)) a.add("conntrack drop counters");
    if (/nf_conntrack(\.gz)?$|conntrack_-L/.test(o)) a.add("conntrack-timeouts-long (table composition)");
    if (/sysctl/.test(o)) a.add("sysctl-based conclusions (sizing, gc_thresh, sysctl-not-applied)");
    if (/ipset/.test(o)) a.add("ipset-oversized");
    if (/slabinfo|meminfo/.test(o)) a.add("conntrack-memory-pressure");
    if (/modules|lsmod/.test(o)) a.add("module-based conclusions");
    if (/ip_netns_list|netns/.test(o)) a.add("per-namespace rules and counters");
  }
  return [...a];
}

/** Collectors before 0.2.0 cut an over-long dmesg at its head (keeping boot lines); 0.2.0 keeps the tail. */
function dmesgKeepsHead(version: string): boolean {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  return major === 0 && minor < 2;
}
