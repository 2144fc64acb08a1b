/**
 * conntrack-expect-table-full: a conntrack helper (ftp, sip, h323 …) could not register an
 * expectation for a related data connection because nf_conntrack_expect_max was reached. Not the
 * main table: nf_conntrack_max is irrelevant here.
 */
import { Confidence } from "../src/engine/confidence.js";
import { ctKey, loadedHelpers, nextPow2, partialSources } from "../src/engine/lib/conntrack-sizing.js";
import { liveRules } from "../src/engine/lib/rulesets.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

/** Well-known helper ports (original-direction destination) → helper name. */
const HELPER_PORTS: Record<string, string> = { "tcp/21": "ftp", "tcp/5060": "sip", "udp/5060": "sip", "tcp/1720": "h323", "tcp/6667": "irc", "udp/69": "tftp", "tcp/1723": "pptp", "udp/10080": "amanda", "udp/161": "snmp", "udp/137": "netbios-ns" };

export const analyzer: Analyzer = {
  meta: {
    id: "conntrack-expect-table-full",
    title: "Conntrack expectation table full (helper data connections refused)",
    category: "conntrack",
    defaultSeverity: "high",
    docs: {
      description:
        "A conntrack helper (FTP, SIP, H.323, TFTP, PPTP …) tried to announce an expected related connection (FTP data channel, RTP media) but nf_conntrack_expect_max was reached. The related connection is then not RELATED: passive FTP transfers or SIP media fail while the control connections work. This is the expectation table, not the main conntrack table.",
      mechanism:
        "Helpers call nf_ct_expect_related(); when the namespace already holds nf_conntrack_expect_max expectations the kernel prints `nf_conntrack: expectation table full` (rate-limited) and refuses it. The default limit is nf_conntrack_buckets / 256 (min 1). Per-helper max_expected limits evict the oldest expectation silently instead.",
      signals: [
        "kernel log: `nf_conntrack: expectation table full` (+ `callbacks suppressed`)",
        "helper modules loaded (nf_conntrack_ftp, _sip, _h323 …), rules attaching helpers (`-j CT --helper`, nft `ct helper`)",
        "nf_conntrack_expect_max vs the buckets/256 default; expect_create/expect_delete counters",
      ],
      references: ["https://www.kernel.org/doc/html/latest/networking/nf_conntrack-sysctl.html", "https://home.regit.org/netfilter-en/secure-use-of-helpers/"],
    },
    explains: [],
  },

  detect(facts: Facts): DetectedFinding[] {
    const total = facts.classTotal("ct-expect-full");
    const events = facts.kernelEvents("ct-expect-full");
    if (total.total === 0) return [];
    const evidence: Evidence[] = [];
    const first = events[0];
    const last = events[events.length - 1];
    if (first) evidence.push(facts.eventEvidence(first, "expectation table full", "first refused expectation"));
    const sup = events.find((m) => m.suppressed > 0);
    if (sup) {
      const summary = facts.kernelEvents("ratelimit-summary").filter((m) => m.provenance.path === sup.provenance.path && m.provenance.line < sup.provenance.line).pop();
      if (summary) evidence.push(facts.eventEvidence(summary, /\d+ callbacks suppressed/.exec(summary.raw)?.[0], "rate limiting hid more copies"));
    }
    if (last && last !== first) evidence.push(facts.eventEvidence(last, "expectation table full", "last refused expectation"));

    const ct = facts.conntrack;
    const expectMax = ct.expectMax?.value;
    const buckets = ct.buckets?.value ?? ct.hashsizeParam?.value;
    const defaultExpect = buckets ? Math.max(1, Math.floor(buckets / 256)) : undefined;
    if (ct.expectMax) evidence.push({ ...ct.expectMax.evidence, note: `limit${defaultExpect !== undefined ? `; kernel default would be buckets/256 = ${defaultExpect}` : ""}` });
    const helpers = loadedHelpers(facts);
    for (const h of helpers.slice(0, 4)) evidence.push({ ...h.evidence, note: "conntrack helper module loaded" });
    const helperRules = liveRules(facts).filter((r) => (r.target === "CT" && /--helper/.test(r.targetOptions ?? "")) || /\bct helper\b/.test(r.detail));
    for (const r of helperRules.slice(0, 3)) {
      const text = facts.lineText(r.path, r.line) ?? `${r.chain} ${r.detail} -j ${r.target ?? ""} ${r.targetOptions ?? ""}`;
      const hi = /--helper \S+|ct helper (?:set )?\S+/.exec(text)?.[0];
      evidence.push(facts.evidence(r.origin, { path: r.path, line: r.line }, text, { ...(hi ? { highlight: hi } : {}), note: "rule attaching a helper" }));
    }
    const counters = facts.conntrackCounters?.totals;
    const live = counters && counters.expect_create !== undefined && counters.expect_delete !== undefined ? counters.expect_create - counters.expect_delete : undefined;

    // Helper traffic in the dump: each control connection may hold expectations.
    const dump = facts.first("conntrack-table")?.value;
    const helperFlows = (dump?.byDestinationPort.items ?? []).filter((i) => HELPER_PORTS[i.key]).reduce((n, i) => n + i.count, 0);
    const helperNames = [...new Set([...helpers.map((h) => h.name.replace(/^(nf|ip)_(conntrack|nat)_/, "")), ...helperRules.map((r) => /--helper (\S+)/.exec(r.targetOptions ?? "")?.[1] ?? /ct helper (?:set )?"?(\w+)/.exec(r.detail)?.[1] ?? "")].filter(Boolean))];

    const conf = new Confidence(0.75, `${total.total} "expectation table full" occurrence(s) in the kernel log`);
    if (helpers.length || helperRules.length) conf.add(0.1, `helper${helperNames.length > 1 ? "s" : ""} in use: ${helperNames.join(", ")}`);
    if (expectMax !== undefined && defaultExpect !== undefined && expectMax < defaultExpect) conf.add(0.1, `expect_max ${expectMax} was lowered below the default ${defaultExpect}`);
    for (const p of partialSources(facts, ["dmesg", "kernel-log", "journal"])) conf.add(-0.1, `source incomplete: ${p}`);

    const want = Math.max(defaultExpect ?? 1, 2 * (expectMax ?? 1), 2 * helperFlows, 16);
    const newMax = nextPow2(want);
    const key = ctKey(facts, "expect_max");
    const fixes: DetectedFinding["fixes"] = [
      {
        title: `Raise ${key} to ${newMax}`,
        rationale: `max(buckets/256 default ${defaultExpect ?? "n/a"}, 2 × current ${expectMax ?? "n/a"}${helperFlows ? `, 2 × ${helperFlows} helper control connections in the dump` : ""}) rounded up to a power of two. Each expectation is a few hundred bytes: ${newMax} cost well under 1 MiB.`,
        commands: [`sysctl -w ${key}=${newMax}   # initial namespace only (read-only in child namespaces)`],
        persist: [`echo '${key} = ${newMax}' >> /etc/sysctl.d/90-nfdiag-conntrack.conf   # applies only if nf_conntrack is loaded when systemd-sysctl runs (see conntrack-sysctl-not-applied)`],
        verify: [`sysctl ${key}   # expect ${newMax}`, "dmesg | grep -c 'expectation table full'   # no new lines", "cat /proc/net/nf_conntrack_expect | wc -l   # stays below the limit"],
        rollback: expectMax !== undefined ? [`sysctl -w ${key}=${expectMax}`] : [],
        risk: "Low: expectations are small and expire with their helper's timeout.",
        cureLikelihood: 0.85,
      },
      {
        title: "Attach helpers only where needed, with the CT target",
        rationale: `Every connection a helper inspects may create expectations. Restrict the helper to the real server/port (e.g. \`-t raw -A PREROUTING -p tcp -d <ftp-server> --dport 21 -j CT --helper ftp\`) and unload helpers nothing uses${helpers.length ? ` (loaded: ${helpers.map((h) => h.name).join(", ")})` : ""}. Automatic helper assignment (nf_conntrack_helper=1) is off since 4.7 and removed in 6.0.`,
        commands: helperRules.length ? helperRules.slice(0, 3).map((r) => `# narrow: ${(facts.lineText(r.path, r.line) ?? "").trim()}`) : ["iptables -t raw -A PREROUTING -p tcp -d <server> --dport 21 -j CT --helper ftp"],
        persist: ["save the rule set (iptables-save > /etc/iptables/rules.v4, or /etc/nftables.conf)"],
        verify: ["conntrack -L -o extended 2>/dev/null | grep -c helper=", "cat /proc/net/nf_conntrack_expect"],
        rollback: ["restore the previous rule set"],
        risk: "Connections the helper no longer sees lose their RELATED data channels (active/passive FTP, SIP media).",
        cureLikelihood: 0.5,
      },
    ];
    return [
      {
        severity: "high",
        ...conf.toFinding(),
        summary: `Conntrack helpers${helperNames.length ? ` (${helperNames.join(", ")})` : ""} could not register expected related connections ${total.total} times${total.suppressed ? ` (${total.count} lines + ${total.suppressed} hidden by rate limiting)` : ""}: nf_conntrack_expect_max is ${expectMax ?? "unknown"}${defaultExpect !== undefined ? ` (kernel default buckets/256 = ${defaultExpect})` : ""}${live !== undefined ? `, ${live} expectation(s) live per the counters` : ""}. The refused data connections are not RELATED and are dropped by stateful rules. The main conntrack table is not involved.`,
        mechanism:
          "Helpers parse control connections (FTP PORT/PASV, SIP SDP …) and register an expectation so the announced data connection matches as RELATED. The expectation table has its own limit, nf_conntrack_expect_max (default nf_conntrack_buckets / 256); when it is reached the kernel logs `nf_conntrack: expectation table full` and the expectation is not created.",
        evidence,
        ruledOutBy: ["Lines from an earlier episode: `cat /proc/net/nf_conntrack_expect | wc -l` well below the limit and no new lines in dmesg.", "This is never a main-table problem: nf_conntrack_count and nf_conntrack_max do not matter here."],
        metrics: {
          logLines: total.count,
          logSuppressed: total.suppressed,
          logTotal: total.total,
          expectMax: expectMax ?? null,
          defaultExpectMax: defaultExpect ?? null,
          liveExpectations: live ?? null,
          helperControlFlows: helperFlows,
          helpers: helperNames.join(",") || null,
          recommendedExpectMax: newMax,
        },
        ...(first?.wallTime ? { firstSeen: first.wallTime } : {}),
        ...(last?.wallTime ? { lastSeen: last.wallTime } : {}),
        fixes,
      },
    ];
  },
};
