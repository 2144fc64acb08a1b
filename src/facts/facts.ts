/**
 * Facts: everything the parsers read from one bundle, computed once and shared by every analyzer
 * and the timeline. Typed access to each source, plus the derived views analyzers keep needing
 * (kernel version, boot time, one merged kernel log, conntrack sizing, loaded modules, rule sets),
 * each with the evidence that backs it.
 */
import type { KlogClass, KlogMessage } from "../parsers/kernel-log.js";
import { type KernelVersion, parseKernelRelease } from "../parsers/kernel-version.js";
import type { Evidence, ReportWarning, SourceStatus } from "../report/schema.js";
import type { ParsedSource, ParsedSources } from "../sources/parse.js";
import type { SourceId } from "../sources/registry.js";
import type { ResolvedBundle } from "../sources/resolve.js";
import { type KernelEvent, type MergedKernelLog, mergeKernelLogs } from "./kernel-log-merge.js";
import type { SourceValue } from "./outputs.js";

export interface Valued<T> {
  value: T;
  evidence: Evidence;
}

export type { KernelEvent } from "./kernel-log-merge.js";

/** Numbers of each message of `Facts.kernelMessages`, aligned by index, worked out by the merge. */
export type KernelMessageKeys = Omit<MergedKernelLog, "events">;

export interface FactsInput {
  parsed: ParsedSources;
  resolved: ResolvedBundle;
  statuses: SourceStatus[];
  warnings: ReportWarning[];
  collectedAt?: Date;
}

const KERNEL_LOG_SOURCES = ["dmesg", "kernel-log", "journal"] as const;

interface LineIndex {
  text: string;
  /** Offset of each line of `text`; line n of the file is starts[n - 1 - offset]. */
  starts: Int32Array;
  /** Lines before `text` in the file (a section of a bigger file): empty. */
  offset: number;
}

function indexLines(text: string, offset: number): LineIndex {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  const starts = new Int32Array(n);
  let k = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts[k++] = i + 1;
  return { text, starts, offset };
}

export class Facts {
  private readonly memo = new Map<string, unknown>();
  /** Line starts of in-memory files, made on first use: an offset per line, not a string per line. */
  private readonly lineIndex = new Map<string, LineIndex | null>();

  constructor(private readonly input: FactsInput) {}

  get layout(): ResolvedBundle["layout"] {
    return this.input.resolved.layout;
  }
  get statuses(): SourceStatus[] {
    return this.input.statuses;
  }
  get collectedAt(): Date | undefined {
    return this.input.collectedAt;
  }

  /** Every parsed file of a source, typed by its parser. */
  sources<I extends SourceId>(id: I): ParsedSource<SourceValue<I>>[] {
    return (this.input.parsed.get(id) ?? []) as ParsedSource<SourceValue<I>>[];
  }
  first<I extends SourceId>(id: I): ParsedSource<SourceValue<I>> | undefined {
    return this.sources(id)[0];
  }
  has(id: SourceId): boolean {
    return this.sources(id).length > 0;
  }
  status(id: SourceId): SourceStatus | undefined {
    return this.input.statuses.find((s) => s.id === id);
  }

  /** The text of one line of a bundle file (as the parser saw it), for evidence excerpts. */
  lineText(path: string, line: number): string | undefined {
    let index = this.lineIndex.get(path);
    if (index === undefined) {
      index = null;
      for (const files of this.input.resolved.sources.values()) {
        const f = files.find((x) => x.path === path && x.text !== undefined);
        if (f?.text !== undefined) {
          index = indexLines(f.text, f.lineOffset);
          break;
        }
      }
      this.lineIndex.set(path, index);
    }
    if (index === null) return undefined;
    const i = line - 1 - index.offset;
    if (line - 1 < 0 || line - 1 >= index.offset + index.starts.length) return undefined;
    if (i < 0) return "";
    const start = index.starts[i] as number;
    const next = i + 1 < index.starts.length ? (index.starts[i + 1] as number) - 1 : index.text.length;
    const end = next > start && index.text.charCodeAt(next - 1) === 13 ? next - 1 : next;
    return index.text.slice(start, end);
  }

  /** Evidence for a line, quoting the bundle's own text when it is still in memory. */
  evidence(source: string, prov: { path: string; line?: number; lastLine?: number }, fallbackText: string, extra: Partial<Evidence> = {}): Evidence {
    const quoted = prov.line !== undefined ? this.lineText(prov.path, prov.line) : undefined;
    return {
      source,
      path: prov.path,
      ...(prov.line !== undefined ? { line: prov.line } : {}),
      ...(prov.lastLine !== undefined && prov.lastLine !== prov.line ? { lastLine: prov.lastLine } : {}),
      text: quoted ?? fallbackText,
      ...extra,
    };
  }

  private cached<T>(key: string, compute: () => T): T {
    if (!this.memo.has(key)) this.memo.set(key, compute());
    return this.memo.get(key) as T;
  }

  // ---- Host identity and time ----

  get kernel(): Valued<KernelVersion> | undefined {
    return this.cached("kernel", () => {
      const uname = this.first("uname");
      if (uname?.value.kernel && uname.value.provenance)
        return { value: uname.value.kernel, evidence: this.evidence("uname", uname.value.provenance, uname.value.release ?? "") };
      const manifest = this.first("collector-manifest");
      const fromManifest = manifest?.value.kernel ? parseKernelRelease(manifest.value.kernel) : null;
      if (manifest && fromManifest) return { value: fromManifest, evidence: { source: "collector-manifest", path: manifest.path, text: `kernel: ${manifest.value.kernel}` } };
      for (const m of this.kernelEvents("kernel-version")) {
        const v = parseKernelRelease(m.fields.version);
        if (v) return { value: v, evidence: this.eventEvidence(m, m.fields.version) };
      }
      return undefined;
    });
  }

  get hostname(): string | undefined {
    // || not ??: an unreadable manifest yields empty strings, not absent fields.
    return this.first("uname")?.value.nodename || this.first("collector-manifest")?.value.host || undefined;
  }

  get distro(): string | undefined {
    const os = this.first("os-release")?.value;
    return os?.prettyName ?? (os?.id ? `${os.id} ${os.versionId ?? ""}`.trim() : undefined);
  }

  /** Distribution family for package names: debian, rhel, suse, alpine, arch, or unknown. */
  get distroFamily(): "debian" | "rhel" | "suse" | "alpine" | "arch" | "unknown" {
    const os = this.first("os-release")?.value;
    const ids = [os?.id ?? "", ...(os?.idLike ?? [])].join(" ");
    if (/\b(debian|ubuntu)\b/.test(ids)) return "debian";
    if (/\b(rhel|centos|fedora|rocky|almalinux|ol)\b/.test(ids)) return "rhel";
    if (/\b(suse|sles|opensuse)\b/.test(ids)) return "suse";
    if (/\balpine\b/.test(ids)) return "alpine";
    if (/\barch\b/.test(ids)) return "arch";
    const release = this.kernel?.value.raw ?? "";
    if (/\.el\d/.test(release)) return "rhel";
    if (/-(amd64|arm64|generic)\b/.test(release)) return "debian";
    return "unknown";
  }

  /** Boot time from btime, the collector manifest, or date − uptime. */
  get bootTime(): { date: Date; source: string; evidence?: Evidence } | undefined {
    return this.cached("bootTime", () => {
      const stat = this.first("proc-stat");
      if (stat?.value.btime && stat.value.provenance)
        return { date: new Date(stat.value.btime * 1000), source: "btime in /proc/stat", evidence: this.evidence("proc-stat", stat.value.provenance, `btime ${stat.value.btime}`) };
      const manifest = this.first("collector-manifest")?.value;
      if (manifest?.btime) return { date: new Date(manifest.btime * 1000), source: "btime recorded by the collector" };
      const up = this.first("uptime")?.value.uptimeSeconds;
      if (this.collectedAt && typeof up === "number")
        return { date: new Date(this.collectedAt.getTime() - up * 1000), source: "collection time minus uptime" };
      return undefined;
    });
  }

  get memTotalBytes(): Valued<number> | undefined {
    const m = this.first("meminfo");
    const kb = m?.value.memTotalKb;
    const f = m?.value.fields.MemTotal;
    if (!m || kb == null || !f) return undefined;
    return { value: kb * 1024, evidence: this.evidence("meminfo", f.provenance, `MemTotal: ${kb} kB`) };
  }

  get memAvailableBytes(): Valued<number> | undefined {
    const m = this.first("meminfo");
    const kb = m?.value.memAvailableKb;
    const f = m?.value.fields.MemAvailable;
    if (!m || kb == null || !f) return undefined;
    return { value: kb * 1024, evidence: this.evidence("meminfo", f.provenance, `MemAvailable: ${kb} kB`) };
  }

  get cpuCount(): number | undefined {
    const n = this.first("proc-stat")?.value.cpuCount;
    if (n) return n;
    const rows = this.first("proc-stat-nf_conntrack")?.value.rows.length;
    return rows || undefined;
  }

  // ---- Kernel log ----

  /** All kept kernel-log messages of every log source, merged in time order, duplicates removed. */
  get kernelMessages(): KernelEvent[] {
    return this.mergedKernelLog.events;
  }

  /** Wall time in ms and text id of each of `kernelMessages`: the timeline need not work them out again. */
  get kernelMessageKeys(): KernelMessageKeys {
    return this.mergedKernelLog;
  }

  private get mergedKernelLog(): MergedKernelLog {
    return this.cached("kernelMessages", () => {
      const inputs = KERNEL_LOG_SOURCES.flatMap((sourceId) => this.sources(sourceId).map((p) => ({ sourceId, messages: p.value.messages })));
      return mergeKernelLogs(inputs, this.bootTime?.date.getTime());
    });
  }

  kernelEvents<C extends KlogClass>(cls: C): (Extract<KlogMessage, { class: C }> & KernelEvent)[] {
    // One pass over the merged messages builds every class's list; callers get their own copy.
    const byClass = this.cached("kernelEventsByClass", () => {
      const m = new Map<KlogClass, KernelEvent[]>();
      for (const e of this.kernelMessages) {
        const list = m.get(e.class);
        if (list) list.push(e);
        else m.set(e.class, [e]);
      }
      return m;
    });
    return (byClass.get(cls)?.slice() ?? []) as (Extract<KlogMessage, { class: C }> & KernelEvent)[];
  }

  /**
   * How many times a class occurred, suppressed occurrences included. Logs overlap (dmesg and
   * kern.log hold the same lines), so this is the largest count of any one log, not their sum.
   */
  classTotal(cls: KlogClass): { count: number; suppressed: number; total: number; sourceId?: string; path?: string } {
    let best = { count: 0, suppressed: 0, total: 0 } as { count: number; suppressed: number; total: number; sourceId?: string; path?: string };
    for (const id of KERNEL_LOG_SOURCES)
      for (const p of this.sources(id)) {
        const t = p.value.classes[cls];
        if (t && t.total > best.total) best = { count: t.count, suppressed: t.suppressed, total: t.total, sourceId: id, path: p.path };
      }
    return best;
  }

  eventEvidence(m: KernelEvent, highlight?: string, note?: string): Evidence {
    const text = m.raw.length > 400 ? `${m.raw.slice(0, 400)}…` : m.raw;
    return {
      source: m.sourceId,
      path: m.provenance.path,
      line: m.provenance.line,
      ...(m.provenance.lastLine && m.provenance.lastLine !== m.provenance.line ? { lastLine: m.provenance.lastLine } : {}),
      text,
      ...(highlight && text.includes(highlight) ? { highlight } : {}),
      ...(note ? { note } : {}),
    };
  }

  // ---- sysctl and conntrack sizing ----

  /** A runtime sysctl value: `sysctl -a`, else the /proc/sys file, else nothing. */
  sysctl(key: string): Valued<{ raw: string; number: number | null }> | undefined {
    for (const p of this.sources("sysctl")) {
      const e = p.value.entries[key];
      if (e) return { value: { raw: e.value, number: e.number }, evidence: this.evidence("sysctl", e.provenance, `${e.originalKey ?? e.key} = ${e.value}`) };
    }
    const leaf = key.split(".").pop() ?? key;
    for (const p of this.sources("proc-sys-netfilter")) {
      if (key.startsWith("net.netfilter.") && p.value.name === leaf && p.value.raw !== null)
        return { value: { raw: p.value.raw, number: p.value.number }, evidence: this.evidence("proc-sys-netfilter", p.value.provenance, p.value.raw) };
    }
    return undefined;
  }

  sysctlNumber(key: string): Valued<number> | undefined {
    const v = this.sysctl(key);
    return v && v.value.number !== null ? { value: v.value.number, evidence: v.evidence } : undefined;
  }

  /** nf_conntrack sizing and fill, each with its evidence. */
  get conntrack(): {
    count?: Valued<number>;
    max?: Valued<number>;
    buckets?: Valued<number>;
    expectMax?: Valued<number>;
    hashsizeParam?: Valued<number>;
  } {
    return this.cached("conntrack", () => {
      const out: ReturnType<() => Facts["conntrack"]> = {};
      const count =
        this.sysctlNumber("net.netfilter.nf_conntrack_count") ??
        (() => {
          const c = this.first("conntrack-count");
          return c?.value.value != null && c.value.provenance ? { value: c.value.value, evidence: this.evidence("conntrack-count", c.value.provenance, String(c.value.value)) } : undefined;
        })() ??
        (() => {
          const s = this.first("proc-stat-nf_conntrack")?.value.entries;
          const p = this.first("proc-stat-nf_conntrack");
          return s && p ? { value: s.value, evidence: this.evidence("proc-stat-nf_conntrack", s.provenance, `entries ${s.value.toString(16)} (hex)`, { note: "entries column, hexadecimal" }) } : undefined;
        })();
      if (count) out.count = count;
      const max = this.sysctlNumber("net.netfilter.nf_conntrack_max") ?? this.sysctlNumber("net.nf_conntrack_max");
      if (max) out.max = max;
      const buckets = this.sysctlNumber("net.netfilter.nf_conntrack_buckets");
      if (buckets) out.buckets = buckets;
      const expectMax = this.sysctlNumber("net.netfilter.nf_conntrack_expect_max");
      if (expectMax) out.expectMax = expectMax;
      const hashsize = this.sources("nf-conntrack-params").find((p) => p.value.name === "hashsize");
      if (hashsize?.value.number != null) out.hashsizeParam = { value: hashsize.value.number, evidence: this.evidence("nf-conntrack-params", hashsize.value.provenance, hashsize.value.raw ?? "") };
      return out;
    });
  }

  /** Summed per-CPU conntrack counters: `conntrack -S` when complete, else /proc/net/stat/nf_conntrack. */
  get conntrackCounters(): { totals: Record<string, number>; sourceId: string; path: string; partial: boolean; partialReason?: string; evidence: Evidence[] } | undefined {
    return this.cached("conntrackCounters", () => {
      const proc = this.first("proc-stat-nf_conntrack");
      const cli = this.first("conntrack-stats");
      const cliComplete = cli && !cli.value.partial && cli.value.cpus.some((c) => c.kind === "conntrack");
      if (cli && (cliComplete || !proc)) {
        const rows = cli.value.cpus.filter((c) => c.kind === "conntrack");
        return {
          totals: cli.value.totals,
          sourceId: "conntrack-stats",
          path: cli.path,
          partial: cli.value.partial,
          ...(cli.value.partialReason ? { partialReason: cli.value.partialReason } : {}),
          evidence: rows.slice(0, 8).map((r) => this.evidence("conntrack-stats", r.provenance, Object.entries(r.counters).map(([k, v]) => `${k}=${v}`).join(" "))),
        };
      }
      if (proc) {
        const p = proc.value;
        return {
          totals: p.totals,
          sourceId: "proc-stat-nf_conntrack",
          path: proc.path,
          partial: p.rows.some((r) => !r.complete),
          evidence: [
            ...(p.header ? [this.evidence("proc-stat-nf_conntrack", p.header, p.columns.join(" "), { note: "column names" })] : []),
            ...p.rows.slice(0, 8).map((r) => this.evidence("proc-stat-nf_conntrack", r.provenance, Object.entries(r.counters).map(([k, v]) => `${k}=${v}`).join(" "), { note: `CPU row ${r.cpuIndex}, hexadecimal in the file` })),
          ],
        };
      }
      return undefined;
    });
  }

  /** Counter samples the collector took `--sample-seconds` apart, oldest first. */
  get counterSamples(): { epoch: number; count?: number; totals?: Record<string, number>; path: string }[] {
    return this.cached("samples", () => {
      const byDir = new Map<string, { epoch?: number; count?: number; totals?: Record<string, number>; path: string }>();
      const dirOf = (path: string): string => path.replace(/\/[^/]+$/, "");
      const slot = (path: string) => {
        const d = dirOf(path);
        let s = byDir.get(d);
        if (!s) byDir.set(d, (s = { path: d }));
        return s;
      };
      for (const p of this.sources("sample-epochs")) if (p.value.number !== null) slot(p.path).epoch = p.value.number;
      for (const p of this.sources("count-samples")) if (p.value.value !== null) slot(p.path).count = p.value.value;
      for (const p of this.sources("counter-samples")) slot(p.path).totals = p.value.totals;
      for (const p of this.sources("conntrack-stats-samples")) slot(p.path).totals ??= p.value.totals;
      const manifestSamples = this.first("collector-manifest")?.value.samples ?? [];
      for (const s of manifestSamples) {
        for (const [dir, v] of byDir) if (dir.endsWith(`/${s.dir}`) || dir.endsWith(s.dir)) v.epoch ??= s.epoch;
      }
      return [...byDir.values()]
        .filter((s): s is { epoch: number; path: string; count?: number; totals?: Record<string, number> } => typeof s.epoch === "number")
        .sort((a, b) => a.epoch - b.epoch);
    });
  }

  // ---- Modules ----

  /** Loaded modules by name (lsmod or /proc/modules) with evidence; undefined when no listing exists. */
  get loadedModules(): Map<string, Evidence> | undefined {
    return this.cached("loadedModules", () => {
      const listings = [...this.sources("proc-modules"), ...this.sources("lsmod")];
      const usable = listings.filter((l) => l.value.modules.length > 0);
      if (usable.length === 0) return undefined;
      const out = new Map<string, Evidence>();
      for (const l of usable)
        for (const m of l.value.modules) if (!out.has(m.name)) out.set(m.name, this.evidence(l.sourceId, m.provenance, `${m.name} ${m.size ?? ""} ${m.useCount ?? "-"} ${m.users.join(",")}`.trim(), { highlight: m.name }));
      return out;
    });
  }

  /** The kernel has no loadable-module support: lsmod failed for lack of /proc/modules, or the collector said so. */
  get moduleSupport(): "loadable" | "none" | "unknown" {
    const m = this.first("collector-manifest")?.value.modules.support;
    if (m === "none") return "none";
    if (m === "loadable" || this.loadedModules) return "loadable";
    const failed = [...this.sources("lsmod"), ...this.sources("proc-modules")].some((l) => l.value.failures.length > 0);
    return failed ? "none" : "unknown";
  }

  get builtinModules(): Set<string> {
    return this.cached("builtin", () => new Set(this.sources("modules-builtin").flatMap((p) => p.value.modules.map((m) => m.name))));
  }

  /** Loaded or built in; evidence of how we know. */
  moduleLoaded(name: string): Evidence | "builtin" | undefined {
    const loaded = this.loadedModules?.get(name);
    if (loaded) return loaded;
    if (this.builtinModules.has(name)) return "builtin";
    const state = this.first("collector-manifest")?.value.modules.state[name];
    if (state && (state as { loaded?: boolean }).loaded) return "builtin";
    return undefined;
  }

  get parseWarnings(): ReportWarning[] {
    return this.input.warnings;
  }
}
