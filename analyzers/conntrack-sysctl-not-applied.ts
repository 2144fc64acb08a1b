/**
 * conntrack-sysctl-not-applied: net.netfilter.* tuning in sysctl.conf / sysctl.d that the running
 * kernel does not have: systemd-sysctl / `sysctl --system` ran before nf_conntrack was loaded
 * (the keys exist only while the module is in), or kube-proxy rewrote them.
 */
import { Confidence } from "../src/engine/confidence.js";
import { fmt, hostPath, orchestratorHints } from "../src/engine/lib/module-usage.js";
import { effectiveSysctlConf } from "../src/parsers/sysctl-conf.js";
import type { Analyzer, DetectedFinding, Evidence, Facts } from "../src/engine/types.js";

const ID = "conntrack-sysctl-not-applied";

export const analyzer: Analyzer = {
  meta: {
    id: ID,
    title: "Conntrack sysctl tuning is not in effect",
    category: "sysctl",
    defaultSeverity: "medium",
    docs: {
      description:
        "sysctl.conf or a sysctl.d file sets net.netfilter.nf_conntrack_* values that differ from the running kernel's: the tuning was lost, usually because sysctl ran at boot before nf_conntrack was loaded, or because kube-proxy writes its own values at start.",
      mechanism:
        "The net.netfilter.nf_conntrack_* keys are created by nf_conntrack when it loads. systemd-sysctl (or `sysctl --system`) runs early at boot; if nothing has loaded the module by then, each key fails with \"No such file or directory\" (\"cannot stat /proc/sys/net/netfilter/…\", \"Couldn't write … ignoring\") and is never retried. When a firewall rule loads the module later, it starts with the kernel defaults. kube-proxy sets nf_conntrack_max = max(32768 × CPUs, 131072) and the established/close_wait timeouts (86400/3600) at start, overriding the files.",
      signals: [
        "sysctl.conf / sysctl.d (effective value after systemd-sysctl precedence) vs `sysctl -a` runtime value",
        "syslog/journal: systemd-sysctl / sysctl errors for net.netfilter keys (sysctl-write-failed); stderr lines in sysctl -a",
        "runtime values equal to the kernel default (max = buckets on 5.15+, 4 × buckets before) or to kube-proxy's formulas",
        "modules-load.d: whether nf_conntrack is loaded early",
      ],
      references: ["kernel-facts.md §2, §7", "systemd-sysctl.service(8)", "sysctl.d(5)"],
    },
    explains: ["conntrack-table-full", "conntrack-hash-undersized"],
  },
  detect,
};

const NF = /^net\.(netfilter\.nf_conntrack_|nf_conntrack_max$)/;

function normalise(v: string): string {
  return v.trim().split(/\s+/).join(" ");
}

function detect(facts: Facts): DetectedFinding[] {
  const files = facts.sources("sysctl-d").map((p) => ({ path: p.path, entries: p.value.entries }));
  if (files.length === 0) return [];
  const eff = effectiveSysctlConf(files);
  const wanted = Object.entries(eff.effective).filter(([k]) => NF.test(k));
  if (wanted.length === 0) return [];
  const kernel = facts.kernel?.value;
  const haveRuntime = facts.has("sysctl") || facts.has("proc-sys-netfilter");

  // Errors from sysctl / systemd-sysctl about netfilter keys.
  const errEvents = facts.kernelEvents("sysctl-write-failed").filter((m) => /netfilter|nf_conntrack/.test(m.fields.key));
  const parserErrors = facts.sources("sysctl").flatMap((p) => p.value.errors.filter((e) => e.key && NF.test(e.mappedKey ?? e.key)));

  const diffs: { key: string; want: string; have: string | undefined; src: { path: string; line: number }; haveEv?: Evidence }[] = [];
  for (const [key, w] of wanted) {
    const rt = facts.sysctl(key);
    const have = rt?.value.raw;
    if (have !== undefined && normalise(have) === normalise(w.value)) continue;
    if (have === undefined && !haveRuntime) continue;
    diffs.push({ key, want: w.value, have, src: w.source, ...(rt ? { haveEv: rt.evidence } : {}) });
  }
  if (diffs.length === 0 && errEvents.length === 0) return [];
  const missingKeys = diffs.filter((d) => d.have === undefined);
  const changed = diffs.filter((d) => d.have !== undefined);

  const evidence: Evidence[] = [];
  const conf = new Confidence(0.55, `${diffs.length} conntrack setting(s) from the sysctl files are not in effect`);
  for (const d of diffs.slice(0, 6)) {
    evidence.push(facts.evidence("sysctl-d", d.src, `${d.key} = ${d.want}`, { highlight: d.key.split(".").pop() ?? d.key, note: `configured: ${d.want}` }));
    if (d.haveEv) evidence.push({ ...d.haveEv, note: `running value: ${d.have}` });
  }
  for (const m of errEvents.slice(0, 4)) evidence.push(facts.eventEvidence(m, m.fields.key, "sysctl could not write the key: nf_conntrack was not loaded yet"));
  for (const e of parserErrors.slice(0, 2)) evidence.push(facts.evidence("sysctl", e.provenance, e.message, { note: "sysctl error for a conntrack key" }));
  if (errEvents.length > 0 || parserErrors.length > 0) conf.add(0.25, "sysctl reported the conntrack keys missing when it ran (module not loaded yet)");

  const metrics: DetectedFinding["metrics"] = { settingsNotApplied: diffs.length, keysMissingNow: missingKeys.length, writeErrors: errEvents.length + parserErrors.length };
  const maxDiff = changed.find((d) => d.key === "net.netfilter.nf_conntrack_max" || d.key === "net.nf_conntrack_max");
  let kubeExplains = false;
  let defaultExplains = false;
  const cpus = facts.cpuCount;
  if (maxDiff?.have !== undefined) {
    const have = Number(maxDiff.have);
    metrics.maxConfigured = Number(maxDiff.want);
    metrics.maxRunning = have;
    const buckets = facts.conntrack.buckets?.value ?? facts.conntrack.hashsizeParam?.value;
    if (buckets && kernel) {
      const factor = kernel.major > 5 || (kernel.major === 5 && kernel.minor >= 15) ? 1 : 4;
      if (have === buckets * factor) {
        defaultExplains = true;
        conf.add(0.1, `running nf_conntrack_max ${fmt(have)} is the kernel default (${factor} × ${fmt(buckets)} buckets): the configured value was never written`);
      }
    }
    if (cpus) {
      const kube = Math.min(Math.max(32768 * cpus, 131072), 1048576);
      const kubeUncapped = Math.max(32768 * cpus, 131072);
      if (have === kube || have === kubeUncapped) {
        kubeExplains = true;
        metrics.kubeProxyMax = have;
      }
    }
  }
  const est = changed.find((d) => d.key === "net.netfilter.nf_conntrack_tcp_timeout_established");
  if (est?.have === "86400") kubeExplains = true;
  const hints = orchestratorHints(facts);
  if (kubeExplains && hints.kube.length > 0) conf.add(0.1, "kube-proxy chains present and running values match kube-proxy's formulas");
  else if (kubeExplains) conf.add(0.0, "running values match kube-proxy's formulas (no KUBE-* chains seen)");
  if (missingKeys.length > 0 && changed.length === 0) conf.add(-0.15, "the keys are absent now: nf_conntrack is not loaded at collection time, so nothing is lost yet");

  const modulesLoad = facts.sources("modules-load-d").flatMap((p) => p.value.modules.map((m) => ({ p, m }))).find(({ m }) => m.name === "nf_conntrack");
  if (modulesLoad) evidence.push(facts.evidence("modules-load-d", modulesLoad.m.provenance, modulesLoad.m.rawName, { note: "nf_conntrack is loaded at boot by systemd-modules-load" }));

  const tableFull = facts.classTotal("ct-table-full").total;
  let severity: DetectedFinding["severity"] = missingKeys.length > 0 && changed.length === 0 ? "low" : "medium";
  if (maxDiff && Number(maxDiff.want) > Number(maxDiff.have) && (tableFull > 0 || (facts.conntrackCounters?.totals.drop ?? 0) > 0)) {
    severity = "high";
    conf.add(0.1, `the configured max (${fmt(Number(maxDiff.want))}) would have avoided the drops seen at ${fmt(Number(maxDiff.have))}`);
  }
  metrics.tableFullMessages = tableFull;

  const sets = changed.length > 0 ? changed : diffs;
  const fileOf = (d: (typeof diffs)[number]) => hostPath(d.src.path);
  const applyNow = sets.map((d) => `sysctl -w ${d.key}=${normalise(d.want).includes(" ") ? `"${normalise(d.want)}"` : normalise(d.want)}`);
  const verify = sets.map((d) => `sysctl ${d.key}   # expect ${normalise(d.want)} (also after a reboot)`);
  const reason = kubeExplains
    ? "kube-proxy rewrites these keys when it starts"
    : errEvents.length + parserErrors.length > 0 || defaultExplains
      ? "sysctl ran before nf_conntrack was loaded"
      : "the running values differ from the files";
  const fixes: DetectedFinding["fixes"] = [];
  if (kubeExplains) {
    fixes.push({
      title: "Set the conntrack values in kube-proxy's configuration, not in sysctl.d",
      rationale: `kube-proxy writes nf_conntrack_max = max(32768 × CPUs, 131072)${cpus ? ` (${fmt(Math.max(32768 * cpus, 131072))} with ${cpus} CPU(s))` : ""} and timeouts established 86400 / close_wait 3600 each time it starts, overriding the files.`,
      commands: ["kubectl -n kube-system get configmap kube-proxy -o yaml | grep -A6 conntrack"],
      persist: ["KubeProxyConfiguration conntrack: { maxPerCore: <N>, min: <M>, tcpEstablishedTimeout: <d> } (maxPerCore: 0 leaves nf_conntrack_max alone)"],
      verify,
      rollback: ["restore the previous kube-proxy configmap"],
      risk: "Low; kube-proxy restarts pick up the new values.",
      cureLikelihood: 0.8,
    });
  }
  fixes.push({
    title: "Load nf_conntrack before systemd-sysctl runs (modules-load.d), then re-apply",
    rationale: `${reason}. systemd-modules-load runs before systemd-sysctl at boot, so listing nf_conntrack in /etc/modules-load.d makes the keys exist when the files are applied.`,
    commands: ["echo nf_conntrack > /etc/modules-load.d/nf_conntrack.conf", "modprobe nf_conntrack", ...sets.map((d) => `sysctl -p ${fileOf(d)}`).filter((v, i, a) => a.indexOf(v) === i)],
    persist: ["/etc/modules-load.d/nf_conntrack.conf:", "  nf_conntrack"],
    verify,
    rollback: ["rm /etc/modules-load.d/nf_conntrack.conf"],
    risk: "Low; on ≤ 4.9 kernels loading nf_conntrack early starts tracking every packet (kernel-facts §2.1), so only do it where conntrack is used anyway.",
    cureLikelihood: kubeExplains ? 0.3 : 0.85,
  });
  fixes.push({
    title: "Re-run sysctl whenever nf_conntrack loads (udev rule)",
    rationale: "Like systemd's own rule for br_netfilter: applies the net.netfilter keys at the moment the module appears, whatever loads it.",
    commands: [
      `printf '%s\\n' 'ACTION=="add", SUBSYSTEM=="module", KERNEL=="nf_conntrack", RUN+="/usr/lib/systemd/systemd-sysctl --prefix=/net/netfilter"' > /etc/udev/rules.d/99-nf-conntrack-sysctl.rules`,
      "udevadm control --reload",
    ],
    persist: ["/etc/udev/rules.d/99-nf-conntrack-sysctl.rules"],
    verify,
    rollback: ["rm /etc/udev/rules.d/99-nf-conntrack-sysctl.rules && udevadm control --reload"],
    risk: "Low.",
    cureLikelihood: kubeExplains ? 0.2 : 0.8,
  });
  fixes.push({
    title: "Apply the configured values now",
    rationale: "Restores the intended sizing/timeouts immediately; not persistent by itself.",
    commands: applyNow,
    persist: [],
    verify: sets.map((d) => `sysctl ${d.key}   # expect ${normalise(d.want)}`),
    rollback: sets.filter((d) => d.have !== undefined).map((d) => `sysctl -w ${d.key}=${d.have}`),
    risk: "Low; raising nf_conntrack_max costs about 300 bytes of kernel memory per entry when used.",
    cureLikelihood: 0.5,
  });
  const hs = facts.conntrack.hashsizeParam;
  if (maxDiff && kernel && !(kernel.major > 4 || (kernel.major === 4 && kernel.minor >= 9))) {
    fixes.push({
      title: "Or size the table with the module parameter",
      rationale: `On ${kernel.raw} nf_conntrack_buckets is not writable by sysctl; \`options nf_conntrack hashsize=N\` is applied at load time whatever the order (max then defaults to 8 × hashsize).`,
      commands: [`echo 'options nf_conntrack hashsize=${Math.ceil(Number(maxDiff.want) / 8)}' > /etc/modprobe.d/nf_conntrack.conf`],
      persist: ["/etc/modprobe.d/nf_conntrack.conf"],
      verify: ["cat /sys/module/nf_conntrack/parameters/hashsize", "sysctl net.netfilter.nf_conntrack_max"],
      rollback: ["rm /etc/modprobe.d/nf_conntrack.conf"],
      risk: "Low.",
      cureLikelihood: 0.6,
    });
  } else if (hs) metrics.hashsizeParam = hs.value;

  const first = errEvents[0]?.wallTime;
  return [
    {
      severity,
      ...conf.toFinding(),
      summary: `${diffs.length} conntrack setting(s) from the sysctl files are not in effect${maxDiff ? ` (nf_conntrack_max configured ${fmt(Number(maxDiff.want))}, running ${fmt(Number(maxDiff.have))})` : ""}${missingKeys.length ? `; ${missingKeys.length} key(s) do not exist now` : ""}: ${reason}${errEvents.length ? ` (${errEvents.length} sysctl error line(s))` : ""}.`,
      mechanism: kubeExplains
        ? "kube-proxy sets nf_conntrack_max = max(32768 × CPUs, 131072) (capped at 1,048,576 by recent versions) and the TCP established/close_wait timeouts when it starts, after systemd-sysctl: its values win."
        : `net.netfilter.nf_conntrack_* keys exist only once nf_conntrack is loaded. systemd-sysctl applied the files at boot before anything loaded the module, each conntrack key failed ("No such file or directory") and is never retried; the firewall loaded nf_conntrack later with the kernel defaults${kernel ? ` of ${kernel.raw}` : ""}.`,
      evidence,
      ruledOutBy: ["someone changed the value by hand after boot (`sysctl -w`)", "a later sysctl.d file in a directory not collected overrides it (check `systemd-analyze cat-config sysctl.d`)"],
      metrics,
      ...(first ? { firstSeen: first } : {}),
      fixes,
    },
  ];
}
