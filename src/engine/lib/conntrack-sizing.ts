/**
 * Conntrack sizing shared by the capacity analyzers (table full, near capacity, hash undersized,
 * timeouts, memory pressure, expectation table): the kernel's own default sizes by version, what
 * an entry costs in memory, a recommended nf_conntrack_max / buckets for this host, the exact
 * commands for this kernel, and the table-full signals that two analyzers must agree on.
 *
 * Kernel facts used (shared/domain/kernel-facts.md):
 * - §2 auto size when no `hashsize` is given: buckets = RAM/16384/sizeof(bucket head)
 *   (list_head 16 B ≤ 2.6.23, hlist_head 8 B after), then
 *     ≤ 2.6.23: 8192 if RAM > 1 GiB, min 16, max = 8 × buckets;
 *     2.6.24–3.19: 16384 if RAM > 1 GiB, min 32, max = 4 × buckets;
 *     4.0–5.14: also 65536 if RAM > 4 GiB, max = 4 × buckets;
 *     5.15+: 262144 if RAM > 4 GiB (64-bit), 65536 if RAM > 1 GiB, min 1024, max = buckets;
 *   with a `hashsize` module parameter max = 8 × hashsize (all versions). The hash is rounded
 *   up to a multiple of 512 (PAGE_SIZE / 8). nf_conntrack_expect_max = buckets / 256 (min 1).
 * - §2.1 nf_conntrack_buckets is writable by sysctl from 4.9 (between 4.7.4 and 4.9), only in
 *   the initial netns; before that only /sys/module/nf_conntrack/parameters/hashsize.
 * - §2.3 ~300 B per entry (slab object size when slabinfo has it) + 8 B per bucket.
 * - kube-proxy writes hashsize = max/4 (expects 4:1 even on 5.15+).
 */
import type { Facts, KernelEvent, Valued } from "../../facts/facts.js";
import type { KlogMessage } from "../../parsers/kernel-log.js";
import { type KernelVersion, atLeast } from "../../parsers/kernel-version.js";
import type { Evidence, Fix } from "../../report/schema.js";
import { netnsOfPath } from "../../sources/registry.js";
import { type UnifiedRule, liveRules } from "./rulesets.js";

export type FixDraft = Omit<Fix, "rank" | "findingId">;

const GiB = 1024 * 1024 * 1024;
/** Bytes per entry when slabinfo does not say (kernel-facts §2.3: 256–320 B observed, ~300 B rule of thumb). */
export const DEFAULT_ENTRY_BYTES = 320;
/** Share of RAM the recommended table (worst case, every entry allocated) may take. */
export const RAM_SHARE_CAP = 0.05;
export const BUCKET_BYTES = 8;

// ---------------------------------------------------------------- kernel eras and defaults

export type SizingEra = "ip_conntrack" | "2.6.24-3.19" | "4.0-5.14" | "5.15+";

export function sizingEra(k: KernelVersion | undefined): SizingEra {
  if (!k) return "5.15+";
  if (!atLeast(k, "2.6.24")) return "ip_conntrack";
  if (!atLeast(k, "4.0")) return "2.6.24-3.19";
  if (!atLeast(k, "5.15")) return "4.0-5.14";
  return "5.15+";
}

export const ERA_LABEL: Record<SizingEra, string> = {
  ip_conntrack: "≤ 2.6.23",
  "2.6.24-3.19": "2.6.24–3.19",
  "4.0-5.14": "4.0–5.14",
  "5.15+": "5.15 and later",
};

export function roundUp512(n: number): number {
  return Math.ceil(n / 512) * 512;
}

export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export interface KernelDefault {
  buckets: number;
  max: number;
  /** max : buckets. */
  ratio: number;
  expectMax: number;
  era: SizingEra;
  /** The formula in words, with the numbers. */
  explanation: string;
}

/** The size the kernel picks by itself for this RAM (no hashsize parameter given). */
export function kernelAutoDefault(memBytes: number, k: KernelVersion | undefined): KernelDefault {
  const era = sizingEra(k);
  const head = era === "ip_conntrack" ? 16 : 8;
  let buckets = Math.floor(memBytes / 16384 / head);
  let why = `RAM/16384/${head}`;
  if (era === "5.15+") {
    if (memBytes > 4 * GiB) [buckets, why] = [262144, "262144 because RAM > 4 GiB"];
    else if (memBytes > GiB) [buckets, why] = [65536, "65536 because RAM > 1 GiB"];
    if (buckets < 1024) [buckets, why] = [1024, "minimum 1024"];
  } else if (era === "4.0-5.14") {
    if (memBytes > 4 * GiB) [buckets, why] = [65536, "65536 because RAM > 4 GiB"];
    else if (memBytes > GiB) [buckets, why] = [16384, "16384 because RAM > 1 GiB"];
    if (buckets < 32) buckets = 32;
  } else if (era === "2.6.24-3.19") {
    if (memBytes > GiB) [buckets, why] = [16384, "16384 because RAM > 1 GiB"];
    if (buckets < 32) buckets = 32;
  } else {
    if (memBytes > GiB) [buckets, why] = [8192, "8192 because RAM > 1 GiB"];
    if (buckets < 16) buckets = 16;
  }
  const ratio = era === "5.15+" ? 1 : era === "ip_conntrack" ? 8 : 4;
  // 4.7+ computes max after rounding the hash up to a multiple of 512; 3.x–4.6 before (banner subtlety, §1.5).
  const rounded = roundUp512(buckets);
  const max = (k && atLeast(k, "4.7")) || era === "5.15+" ? rounded * ratio : buckets * ratio;
  return {
    buckets: rounded,
    max,
    ratio,
    expectMax: Math.max(1, Math.floor(rounded / 256)),
    era,
    explanation: `kernel ${ERA_LABEL[era]} default: buckets = ${why} → ${rounded}, nf_conntrack_max = ${ratio} × buckets → ${max}`,
  };
}

/** A hashsize given explicitly (modprobe.d `options nf_conntrack hashsize=N`): then max defaults to 8 × hashsize. */
export function explicitHashsize(facts: Facts): (Valued<number> & { module: string }) | undefined {
  for (const p of facts.sources("modprobe-d")) {
    for (const d of p.value.directives) {
      if (d.kind !== "options" || (d.module !== "nf_conntrack" && d.module !== "ip_conntrack")) continue;
      const v = d.params.hashsize;
      const n = v !== undefined ? Number.parseInt(v, 10) : Number.NaN;
      if (Number.isFinite(n) && n > 0)
        return { value: n, module: d.module, evidence: facts.evidence("modprobe-d", { path: p.path, line: d.provenance.line }, `options ${d.module} ${d.raw}`, { highlight: `hashsize=${v}` }) };
    }
  }
  return undefined;
}

const kubeProxyRules = new WeakMap<Facts, UnifiedRule | null>();

/** The first live rule in or to a KUBE-* chain, looked for once per bundle. */
function kubeProxyRule(facts: Facts): UnifiedRule | undefined {
  let r = kubeProxyRules.get(facts);
  if (r === undefined) {
    r = liveRules(facts).find((x) => x.chain.startsWith("KUBE-") || (x.target ?? "").startsWith("KUBE-")) ?? null;
    kubeProxyRules.set(facts, r);
  }
  return r ?? undefined;
}

/** Evidence that kube-proxy manages this node (KUBE-* chains): it sets max:buckets to 4:1. */
export function kubeProxyEvidence(facts: Facts): Evidence | undefined {
  const r = kubeProxyRule(facts);
  if (!r) return undefined;
  const name = r.chain.startsWith("KUBE-") ? r.chain : (r.target ?? "");
  return facts.evidence(r.origin, { path: r.path, line: r.line }, `${r.chain} ${r.detail} ${r.target ?? ""}`.trim(), { highlight: name, note: "kube-proxy chains: kube-proxy sets hashsize = nf_conntrack_max / 4" });
}

/** The max:buckets ratio this host is expected to run with, and why. */
export function expectedRatio(facts: Facts): { ratio: number; reason: string } {
  const k = facts.kernel?.value;
  if (kubeProxyEvidence(facts)) return { ratio: 4, reason: "kube-proxy node: kube-proxy sets hashsize = nf_conntrack_max / 4" };
  if (explicitHashsize(facts)) return { ratio: 8, reason: "hashsize given as a module parameter: the kernel then sets nf_conntrack_max = 8 × hashsize" };
  const era = sizingEra(k);
  if (era === "5.15+") return { ratio: 1, reason: "kernel 5.15+ default: nf_conntrack_max = buckets (average chain of 2, entries are hashed twice)" };
  if (era === "ip_conntrack") return { ratio: 8, reason: "ip_conntrack default: max = 8 × buckets" };
  return { ratio: 4, reason: `kernel ${ERA_LABEL[era]} default: nf_conntrack_max = 4 × buckets` };
}

// ---------------------------------------------------------------- memory

export interface EntrySize {
  bytes: number;
  source: "slabinfo" | "estimate";
  evidence?: Evidence;
}

/** Bytes per conntrack entry: the nf_conntrack slab object size when slabinfo has it. */
export function entrySize(facts: Facts): EntrySize {
  const slab = facts.first("slabinfo");
  // The slabinfo parser only knows nf_conntrack* names; the ≤ 2.6.2x ip_conntrack cache is looked up here.
  const cache =
    slab?.value.conntrack.find((c) => c.kind !== "conntrack-expect" && c.objSize > 0) ??
    slab?.value.caches.find((c) => c.name === "ip_conntrack" && c.objSize > 0);
  if (slab && cache) {
    const line = facts.lineText(cache.provenance.path, cache.provenance.line);
    return {
      bytes: cache.objSize,
      source: "slabinfo",
      evidence: facts.evidence("slabinfo", cache.provenance, line ?? `${cache.name} ${cache.activeObjs} ${cache.numObjs} ${cache.objSize}`, {
        highlight: cache.name,
        note: `${cache.name}: ${cache.activeObjs} active objects of ${cache.objSize} B (${fmtBytes(cache.numObjs * cache.objSize)} allocated)`,
      }),
    };
  }
  return { bytes: DEFAULT_ENTRY_BYTES, source: "estimate" };
}

export function tableBytes(entries: number, buckets: number, entryBytes: number): number {
  return entries * entryBytes + buckets * BUCKET_BYTES;
}

export function fmtBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KiB`;
  return `${n} B`;
}

export function pct(part: number, whole: number): string {
  if (whole <= 0) return "n/a";
  const p = (100 * part) / whole;
  return `${p >= 10 || p === 0 ? Math.round(p) : p.toFixed(1)} %`;
}

// ---------------------------------------------------------------- names, writability

/** True when the table is the old ip_conntrack one (2.6 ≤ 2.6.21, RHEL 5) and its sysctl names are net.ipv4.netfilter.ip_conntrack_*. */
export function usesIpConntrackNames(facts: Facts): boolean {
  const k = facts.kernel?.value;
  if (k && k.major > 2) return false;
  if (facts.moduleLoaded("ip_conntrack")) return true;
  const sys = facts.first("sysctl")?.value.entries["net.netfilter.nf_conntrack_max"];
  if (sys?.originalKey?.startsWith("net.ipv4.netfilter.ip_conntrack_") && facts.moduleLoaded("nf_conntrack") === undefined) return true;
  return !!k && !atLeast(k, "2.6.22");
}

/** The sysctl key for a conntrack setting (`max`, `buckets`, `expect_max`, `tcp_timeout_established` …) on this kernel. */
export function ctKey(facts: Facts, leaf: string): string {
  return usesIpConntrackNames(facts) ? `net.ipv4.netfilter.ip_conntrack_${leaf}` : `net.netfilter.nf_conntrack_${leaf}`;
}

export function ctModuleName(facts: Facts): "nf_conntrack" | "ip_conntrack" {
  return usesIpConntrackNames(facts) ? "ip_conntrack" : "nf_conntrack";
}

/** nf_conntrack_buckets writable with sysctl (kernel ≥ 4.9, initial netns only). */
export function bucketsSysctlWritable(facts: Facts): boolean {
  const k = facts.kernel?.value;
  return !!k && atLeast(k, "4.9");
}

/** nf_conntrack is built into the kernel (no module to give options to: use the kernel command line). */
export function conntrackBuiltIn(facts: Facts): boolean {
  return facts.moduleSupport === "none" || facts.moduleLoaded("nf_conntrack") === "builtin";
}

// ---------------------------------------------------------------- observed load

export interface NetnsCount {
  netns: string;
  count: number;
  evidence: Evidence;
}

/** Per-namespace entry counts the collector read (netns/<name>/…/nf_conntrack_count). */
export function netnsCounts(facts: Facts): NetnsCount[] {
  const out: NetnsCount[] = [];
  for (const p of facts.sources("netns-conntrack-count")) {
    const v = p.value.value;
    if (v == null) continue;
    const netns = netnsOfPath(p.path) ?? p.path;
    const prov = p.value.provenance ?? { path: p.path, line: 1 };
    out.push({ netns, count: v, evidence: facts.evidence("netns-conntrack-count", prov, String(v), { note: `entries in network namespace ${netns}` }) });
  }
  return out;
}

export interface Rates {
  seconds: number;
  from: number;
  to: number;
  drop?: number;
  earlyDrop?: number;
  insert?: number;
  insertFailed?: number;
  /** Entries per second (count difference). */
  count?: number;
  countFrom?: number;
  countTo?: number;
  chaintoolong?: number;
  fromPath: string;
  toPath: string;
}

/** Per-second rates between the first and last collector samples (needs two samples). */
export function sampleRates(facts: Facts): Rates | undefined {
  const s = facts.counterSamples;
  const a = s[0];
  const b = s[s.length - 1];
  if (!a || !b || a === b || b.epoch <= a.epoch) return undefined;
  const dt = b.epoch - a.epoch;
  const d = (name: string): number | undefined => {
    const x = a.totals?.[name];
    const y = b.totals?.[name];
    return x === undefined || y === undefined ? undefined : (y - x) / dt;
  };
  const r: Rates = { seconds: dt, from: a.epoch, to: b.epoch, fromPath: a.path, toPath: b.path };
  const drop = d("drop");
  if (drop !== undefined) r.drop = drop;
  const ed = d("early_drop");
  if (ed !== undefined) r.earlyDrop = ed;
  const ins = d("insert");
  if (ins !== undefined) r.insert = ins;
  const insf = d("insert_failed");
  if (insf !== undefined) r.insertFailed = insf;
  const chain = d("chaintoolong") ?? d("chainlength");
  if (chain !== undefined) r.chaintoolong = chain;
  if (a.count !== undefined && b.count !== undefined) {
    r.count = (b.count - a.count) / dt;
    r.countFrom = a.count;
    r.countTo = b.count;
  }
  return r;
}

export function sampleEvidence(facts: Facts, r: Rates, counter: string): Evidence[] {
  const out: Evidence[] = [];
  for (const s of [facts.counterSamples[0], facts.counterSamples[facts.counterSamples.length - 1]]) {
    if (!s) continue;
    const v = s.totals?.[counter];
    const c = s.count;
    const parts = [v !== undefined ? `${counter}=${v}` : "", c !== undefined ? `count=${c}` : ""].filter(Boolean).join(" ");
    out.push({ source: "counter-samples", path: `${s.path}/stat_nf_conntrack`, text: `epoch ${s.epoch}: ${parts}`, note: `collector sample at ${new Date(s.epoch * 1000).toISOString()} (summed over CPUs)` });
  }
  void r;
  return out;
}

// ---------------------------------------------------------------- table-full signals

export type TableFullEvent = Extract<KlogMessage, { class: "ct-table-full" }> & KernelEvent;

export interface TableFullSignals {
  /** Log lines of every era/form (kept messages). */
  events: TableFullEvent[];
  /** Log count incl. rate-limit suppressed copies (largest single log). */
  logTotal: { count: number; suppressed: number; total: number; path?: string };
  netnsIds: string[];
  vpsIds: string[];
  drop: number;
  earlyDrop: number;
  insertFailed: number;
  countersPresent: boolean;
  count?: number;
  max?: number;
  fill?: number;
  /** A namespace whose own count reached ≥ 95 % of the global max. */
  fullNetns: NetnsCount[];
  /** Per-namespace counters the collector read (their drops are included in `drop`/`earlyDrop`). */
  netnsStats: { netns: string; drop: number; earlyDrop: number; evidence: Evidence }[];
  rates?: Rates;
  /** The table is (or was) full: log lines, early_drop, or drops with the table at ≥ 95 %. */
  fired: boolean;
  /** Drops are happening at collection time. */
  activeNow: boolean;
}

export const FULL_FILL = 0.95;

export function tableFullSignals(facts: Facts): TableFullSignals {
  const events: TableFullEvent[] = facts.kernelEvents("ct-table-full");
  const logTotal = facts.classTotal("ct-table-full");
  const counters = facts.conntrackCounters;
  const netnsStats: TableFullSignals["netnsStats"] = [];
  for (const p of facts.sources("netns-conntrack-stats")) {
    const d = p.value.totals.drop ?? 0;
    const ed = p.value.totals.early_drop ?? 0;
    if (d === 0 && ed === 0) continue;
    const row = p.value.rows.find((r) => (r.counters.drop ?? 0) > 0 || (r.counters.early_drop ?? 0) > 0) ?? p.value.rows[0];
    const netns = netnsOfPath(p.path) ?? p.path;
    netnsStats.push({
      netns,
      drop: d,
      earlyDrop: ed,
      evidence: facts.evidence("netns-conntrack-stats", row?.provenance ?? { path: p.path }, `drop=${d} early_drop=${ed}`, { note: `counters of network namespace ${netns} (hexadecimal in the file): drop=${d}, early_drop=${ed} summed over CPUs` }),
    });
  }
  const drop = (counters?.totals.drop ?? 0) + netnsStats.reduce((n, x) => n + x.drop, 0);
  const earlyDrop = (counters?.totals.early_drop ?? 0) + netnsStats.reduce((n, x) => n + x.earlyDrop, 0);
  const insertFailed = counters?.totals.insert_failed ?? 0;
  const ct = facts.conntrack;
  const count = ct.count?.value;
  const max = ct.max?.value;
  const fill = count !== undefined && max ? count / max : undefined;
  const fullNetns = max ? netnsCounts(facts).filter((n) => n.count >= FULL_FILL * max) : [];
  const rates = sampleRates(facts);
  // Namespace and container ids in order of first appearance, in one pass over the messages.
  const netns = new Set<string>();
  const vps = new Set<string>();
  for (const e of events) {
    if (e.fields.netns) netns.add(e.fields.netns);
    if (e.fields.vps) vps.add(e.fields.vps);
  }
  const netnsIds = [...netns];
  const vpsIds = [...vps];
  const full = (fill ?? 0) >= FULL_FILL || fullNetns.length > 0;
  // drop alone is ambiguous (insertion races count there too): it counts when the table is full,
  // or when drops exceed insert_failed (a clash loss increments both on 5.10+).
  const dropFromFull = drop > 0 && (full || (earlyDrop > 0 && drop > insertFailed));
  const fired = logTotal.total > 0 || earlyDrop > 0 || dropFromFull;
  const recentLog = (() => {
    const last = events[events.length - 1]?.wallTime;
    const at = facts.collectedAt?.getTime();
    return last !== undefined && at !== undefined && at - Date.parse(last) <= 15 * 60 * 1000;
  })();
  const activeNow = (rates?.drop ?? 0) > 0 || (full && (drop > 0 || logTotal.total > 0)) || recentLog;
  return {
    events,
    logTotal,
    netnsIds,
    vpsIds,
    drop,
    earlyDrop,
    insertFailed,
    countersPresent: !!counters || netnsStats.length > 0,
    ...(count !== undefined ? { count } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(fill !== undefined ? { fill } : {}),
    fullNetns,
    netnsStats,
    ...(rates ? { rates } : {}),
    fired,
    activeNow,
  };
}

// ---------------------------------------------------------------- recommendation

export interface SizingRecommendation {
  currentMax?: number;
  currentBuckets?: number;
  peak: number;
  peakReason: string;
  kernelDefault?: KernelDefault;
  newMax: number;
  newBuckets: number;
  /** newMax : newBuckets. */
  bucketRatio: number;
  entry: EntrySize;
  memBytes?: number;
  /** Worst-case memory of the new size (every entry allocated) and of the current one. */
  newBytes: number;
  currentBytes?: number;
  /** The RAM cap stopped the recommendation below what the load asks for. */
  ramLimited: boolean;
  explanation: string;
}

/**
 * Recommended nf_conntrack_max: max(2 × observed peak, kernel default for this RAM), rounded up to
 * a power of two, capped so entries × object size + buckets × 8 B stay ≤ 5 % of RAM. Buckets: 1:1
 * on 5.15+ (the kernel's own ratio), max/4 before; never fewer than now.
 */
export function recommendSizing(facts: Facts, opts: { peak?: number; peakReason?: string } = {}): SizingRecommendation {
  const ct = facts.conntrack;
  const k = facts.kernel?.value;
  const mem = facts.memTotalBytes?.value;
  const entry = entrySize(facts);
  const era = sizingEra(k);
  const kd = mem !== undefined ? kernelAutoDefault(mem, k) : undefined;
  const currentMax = ct.max?.value;
  const currentBuckets = ct.buckets?.value ?? ct.hashsizeParam?.value;
  const samplesMax = Math.max(0, ...facts.counterSamples.map((s) => s.count ?? 0));
  const nsMax = Math.max(0, ...netnsCounts(facts).map((n) => n.count));
  const observed = Math.max(ct.count?.value ?? 0, samplesMax, nsMax);
  const peak = Math.max(opts.peak ?? 0, observed);
  const peakReason = opts.peakReason ?? `highest entry count seen in the bundle (${observed})`;
  const bucketRatio = era === "5.15+" ? 1 : 4;
  let want = Math.max(2 * peak, kd?.max ?? 0, 1024);
  let newMax = nextPow2(want);
  let ramLimited = false;
  if (mem !== undefined) {
    const cap = mem * RAM_SHARE_CAP;
    const per = entry.bytes + BUCKET_BYTES / bucketRatio;
    const capEntries = Math.floor(cap / per);
    if (newMax > capEntries) {
      // Largest power of two that fits, else the largest multiple of 512 that fits.
      let p = nextPow2(capEntries);
      if (p > capEntries) p /= 2;
      newMax = Math.max(p, Math.floor(capEntries / 512) * 512);
      ramLimited = newMax < 2 * peak;
    }
  }
  if (currentMax !== undefined && newMax < currentMax && !ramLimited) newMax = currentMax;
  want = newMax;
  let newBuckets = roundUp512(Math.max(1024, Math.ceil(want / bucketRatio)));
  if (currentBuckets !== undefined && currentBuckets > newBuckets) newBuckets = currentBuckets;
  const newBytes = tableBytes(newMax, newBuckets, entry.bytes);
  const currentBytes = currentMax !== undefined && currentBuckets !== undefined ? tableBytes(currentMax, currentBuckets, entry.bytes) : undefined;
  const parts = [
    `2 × peak ${peak} = ${2 * peak}`,
    kd ? `kernel default for ${fmtBytes(mem ?? 0)} RAM = ${kd.max}` : "RAM unknown (no meminfo): no kernel default",
    `rounded up to a power of two`,
    mem !== undefined ? `capped at ${Math.round(RAM_SHARE_CAP * 100)} % of RAM (${fmtBytes(mem * RAM_SHARE_CAP)})` : "no RAM cap (no meminfo)",
  ];
  return {
    ...(currentMax !== undefined ? { currentMax } : {}),
    ...(currentBuckets !== undefined ? { currentBuckets } : {}),
    peak,
    peakReason,
    ...(kd ? { kernelDefault: kd } : {}),
    newMax,
    newBuckets,
    bucketRatio,
    entry,
    ...(mem !== undefined ? { memBytes: mem } : {}),
    newBytes,
    ...(currentBytes !== undefined ? { currentBytes } : {}),
    ramLimited,
    explanation: `nf_conntrack_max ${newMax}: max(${parts[0]}, ${parts[1]}), ${parts[2]}, ${parts[3]}; buckets ${newBuckets} (${bucketRatio === 1 ? "1:1 as the 5.15+ kernel sizes it" : "max/4 as kernels before 5.15 size it"})`,
  };
}

export function recommendationMetrics(r: SizingRecommendation): Record<string, number | string | boolean | null> {
  return {
    recommendedMax: r.newMax,
    recommendedBuckets: r.newBuckets,
    kernelDefaultMax: r.kernelDefault?.max ?? null,
    kernelDefaultBuckets: r.kernelDefault?.buckets ?? null,
    entryBytes: r.entry.bytes,
    entryBytesSource: r.entry.source,
    recommendedTableBytes: r.newBytes,
    currentTableBytes: r.currentBytes ?? null,
    recommendedShareOfRam: r.memBytes ? Math.round((1000 * r.newBytes) / r.memBytes) / 1000 : null,
    ramLimited: r.ramLimited,
  };
}

/** The "raise nf_conntrack_max and buckets" fix with commands for this kernel. */
export function raiseMaxFix(facts: Facts, r: SizingRecommendation, o: { cureLikelihood: number; why: string }): FixDraft {
  const maxKey = ctKey(facts, "max");
  const bucketsKey = ctKey(facts, "buckets");
  const mod = ctModuleName(facts);
  const builtIn = conntrackBuiltIn(facts);
  const commands = [`sysctl -w ${maxKey}=${r.newMax}`];
  const rollback: string[] = [];
  if (r.currentMax !== undefined) rollback.push(`sysctl -w ${maxKey}=${r.currentMax}`);
  const bucketsChange = r.currentBuckets === undefined || r.newBuckets !== r.currentBuckets;
  if (bucketsChange) {
    if (bucketsSysctlWritable(facts) && mod === "nf_conntrack") commands.push(`sysctl -w ${bucketsKey}=${r.newBuckets}   # kernel ≥ 4.9: writable, initial namespace only`);
    else commands.push(`echo ${r.newBuckets} > /sys/module/${mod}/parameters/hashsize   # ${bucketsSysctlWritable(facts) ? "" : `${bucketsKey} is read-only before 4.9; `}initial namespace only`);
    if (r.currentBuckets !== undefined) rollback.push(`echo ${r.currentBuckets} > /sys/module/${mod}/parameters/hashsize`);
  }
  const sysctlFile = "/etc/sysctl.d/90-nfdiag-conntrack.conf";
  const persist: string[] = [];
  // Files that already set the max would fight ours (the last file in lexical order wins): edit them instead.
  const existing = persistentSettings(facts, "net.netfilter.nf_conntrack_max");
  for (const e of existing) persist.push(`sed -i 's/^[[:space:]]*-\\?${e.rawKey.replace(/\./g, "\\.")}[[:space:]]*=.*/${e.rawKey} = ${r.newMax}/' ${e.file}   # it sets ${e.value} now (line ${e.line})`);
  if (existing.length === 0) persist.push(`echo '${maxKey} = ${r.newMax}' >> ${sysctlFile}`);
  if (builtIn) persist.push(`# ${mod} is built into this kernel: add ${mod}.hashsize=${r.newBuckets} to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub / grub2-mkconfig)`);
  else if (bucketsChange) {
    const existing = explicitHashsize(facts);
    const existingPath = existing ? (/\/etc\/modprobe\.d\/[^/]+$/.exec(existing.evidence.path)?.[0] ?? `/etc/modprobe.d/${mod}.conf`) : undefined;
    if (existing && existingPath) persist.push(`sed -i 's/hashsize=${existing.value}/hashsize=${r.newBuckets}/' ${existingPath}   # it sets hashsize=${existing.value} now`);
    else persist.push(`echo 'options ${mod} hashsize=${r.newBuckets}' > /etc/modprobe.d/${mod}.conf`);
  }
  if (!builtIn)
    persist.push(`echo ${mod} > /etc/modules-load.d/${mod}.conf   # a sysctl.d setting of ${maxKey} only applies if ${mod} is loaded when systemd-sysctl runs at boot (see conntrack-sysctl-not-applied)`);
  rollback.push(`rm -f ${sysctlFile}${builtIn ? "" : ` /etc/modules-load.d/${mod}.conf`}`);
  const costNow = r.currentBytes !== undefined ? ` (now ${fmtBytes(r.currentBytes)})` : "";
  const k = facts.kernel?.value;
  const perNetnsHash = k && !atLeast(k, "4.7") ? " On this kernel (< 4.7) every network namespace allocates its own hash table of this size." : "";
  return {
    title: `Raise ${maxKey} to ${r.newMax} and the hash to ${r.newBuckets} buckets`,
    rationale: `${o.why} ${r.explanation}. Worst-case memory: ${r.newMax} × ${r.entry.bytes} B${r.entry.source === "slabinfo" ? " (slab object size from slabinfo)" : " (estimate, no slabinfo)"} + ${r.newBuckets} × 8 B = ${fmtBytes(r.newBytes)}${r.memBytes ? `, ${pct(r.newBytes, r.memBytes)} of RAM` : ""}${costNow}.${r.ramLimited ? " The RAM cap keeps this below 2 × the observed peak: cut the load too (timeouts, NOTRACK)." : ""}${perNetnsHash}${kubeProxyEvidence(facts) ? " kube-proxy runs here: it rewrites nf_conntrack_max at start (set --conntrack-max-per-core / conntrack.maxPerCore instead) and expects max:buckets = 4:1." : ""}`,
    commands,
    persist,
    verify: [
      `sysctl ${maxKey} ${bucketsKey}   # expect ${r.newMax} and ${r.newBuckets}`,
      `cat /proc/sys/net/netfilter/nf_conntrack_count   # stays below ${r.newMax}`,
      "conntrack -S | grep -o 'drop=[0-9]*'   # no longer increasing (or: watch the drop column of /proc/net/stat/nf_conntrack)",
      "dmesg | grep -c 'table full'   # no new lines",
    ],
    rollback,
    risk: `Uses up to ${fmtBytes(r.newBytes)} of kernel memory when the table fills. Changing the hash size rehashes the table (brief CPU spike, safe on a live host).`,
    cureLikelihood: o.cureLikelihood,
  };
}

/** Persistent sysctl settings of a key (sysctl.conf, sysctl.d), as host paths. */
export function persistentSettings(facts: Facts, key: string): { file: string; line: number; rawKey: string; value: string; evidence: Evidence }[] {
  const out: { file: string; line: number; rawKey: string; value: string; evidence: Evidence }[] = [];
  for (const p of facts.sources("sysctl-d")) {
    for (const e of p.value.entries) {
      if (e.key !== key) continue;
      const file = /\/(?:etc|run|usr|lib)\/.*$/.exec(p.path)?.[0] ?? p.path;
      out.push({ file, line: e.provenance.line, rawKey: e.rawKey, value: e.value, evidence: facts.evidence("sysctl-d", e.provenance, `${e.rawKey} = ${e.value}`, { note: "set at boot" }) });
    }
  }
  return out;
}

/** Top destination ports of the dump (`tcp/8080`), with counts. */
export function topPorts(facts: Facts, n = 3): { key: string; count: number }[] {
  const t = facts.first("conntrack-table")?.value;
  return (t?.byDestinationPort.items ?? []).slice(0, n).map((i) => ({ key: i.key, count: i.count }));
}

/** A NOTRACK fix for the dominant traffic of the dump (ports named when one or a few dominate). */
export function notrackFix(facts: Facts, o: { cureLikelihood: number; why: string }): FixDraft | undefined {
  const t = facts.first("conntrack-table")?.value;
  if (!t || t.entries === 0) return undefined;
  const ports = t.byDestinationPort.items.filter((i) => i.count >= 0.2 * t.entries).slice(0, 3);
  const l4 = t.byL4.items[0];
  const nft = facts.has("nft-ruleset") && !facts.has("iptables-save");
  const sel: { proto: string; port?: string }[] = ports.length
    ? ports.map((p) => {
        const [proto, port] = p.key.split("/");
        return { proto: proto ?? "tcp", ...(port ? { port } : {}) };
      })
    : l4 && l4.count >= 0.5 * t.entries && (l4.key === "udp" || l4.key === "tcp")
      ? [{ proto: l4.key }]
      : [];
  if (sel.length === 0) return undefined;
  const desc = sel.map((s) => (s.port ? `${s.proto} port ${s.port}` : `all ${s.proto}`)).join(", ");
  const share = ports.length ? pct(ports.reduce((a, p) => a + p.count, 0), t.entries) : l4 ? pct(l4.count, t.entries) : "";
  const commands: string[] = [];
  const rollback: string[] = [];
  if (nft) {
    commands.push("nft add table inet nfdiag_notrack");
    commands.push("nft add chain inet nfdiag_notrack pre '{ type filter hook prerouting priority raw; }'");
    commands.push("nft add chain inet nfdiag_notrack out '{ type filter hook output priority raw; }'");
    for (const s of sel) {
      const m = s.port ? `${s.proto} dport ${s.port}` : `meta l4proto ${s.proto}`;
      const r = s.port ? `${s.proto} sport ${s.port}` : `meta l4proto ${s.proto}`;
      commands.push(`nft add rule inet nfdiag_notrack pre ${m} notrack`, `nft add rule inet nfdiag_notrack out ${r} notrack`);
    }
    rollback.push("nft delete table inet nfdiag_notrack");
  } else {
    for (const s of sel) {
      const m = s.port ? `-p ${s.proto} --dport ${s.port}` : `-p ${s.proto}`;
      const r = s.port ? `-p ${s.proto} --sport ${s.port}` : `-p ${s.proto}`;
      commands.push(`iptables -t raw -I PREROUTING ${m} -j CT --notrack`, `iptables -t raw -I OUTPUT ${r} -j CT --notrack`);
      rollback.push(`iptables -t raw -D PREROUTING ${m} -j CT --notrack`, `iptables -t raw -D OUTPUT ${r} -j CT --notrack`);
    }
  }
  const k = facts.kernel?.value;
  const oldTarget = k && !atLeast(k, "2.6.35") ? " (this kernel predates the CT target: use `-j NOTRACK`)" : "";
  return {
    title: `Stop tracking ${desc} (NOTRACK in the raw table)`,
    rationale: `${o.why} ${desc} make${sel.length === 1 ? "s" : ""} up ${share} of the ${t.entries} entries in the dump. Untracked packets never take a table slot.${oldTarget} Stateful rules must then accept this traffic explicitly (it is in state UNTRACKED), and NAT cannot apply to it.`,
    commands: oldTarget ? commands.map((c) => c.replace("-j CT --notrack", "-j NOTRACK")) : commands,
    persist: nft ? ["add the nfdiag_notrack table to /etc/nftables.conf (nft list table inet nfdiag_notrack >> /etc/nftables.conf)"] : ["iptables-save > /etc/iptables/rules.v4   # Debian/Ubuntu (iptables-persistent); RHEL: service iptables save"],
    verify: [nft ? "nft list table inet nfdiag_notrack" : "iptables -t raw -L -n -v   # counters of the CT --notrack rules rise", `conntrack -L${sel[0]?.port ? ` -p ${sel[0].proto} --dport ${sel[0].port}` : ""} 2>/dev/null | wc -l   # falls towards 0`],
    rollback: oldTarget ? rollback.map((c) => c.replace("-j CT --notrack", "-j NOTRACK")) : rollback,
    risk: "Rules matching ctstate ESTABLISHED/RELATED no longer see this traffic: add explicit ACCEPT rules for it first, or replies are dropped.",
    cureLikelihood: o.cureLikelihood,
  };
}

/** Truncation/partial notes for the sources a finding used (lower confidence when present). */
export function partialSources(facts: Facts, ids: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of ids) {
    const st = facts.statuses.find((s) => s.id === id);
    if (st && (st.status === "truncated" || st.status === "error")) out.push(`${id} ${st.status}${st.reason ? `: ${st.reason}` : ""}`);
  }
  const c = facts.conntrackCounters;
  if (c?.partial && ids.includes(c.sourceId)) out.push(`${c.sourceId} partial${c.partialReason ? `: ${c.partialReason}` : ""}`);
  return out;
}

// ---------------------------------------------------------------- timeouts

/** Kernel default timeouts (kernel-facts §2.2); udp_timeout_stream 180 up to 4.19, 120 from 5.4. */
export function defaultTimeout(facts: Facts, leaf: string): number | undefined {
  const k = facts.kernel?.value;
  const table: Record<string, number> = {
    tcp_timeout_established: 432000,
    tcp_timeout_time_wait: 120,
    tcp_timeout_close_wait: 60,
    tcp_timeout_fin_wait: 120,
    tcp_timeout_syn_sent: 120,
    tcp_timeout_syn_recv: 60,
    tcp_timeout_last_ack: 30,
    tcp_timeout_close: 10,
    udp_timeout: 30,
    udp_timeout_stream: k && !atLeast(k, "5.4") ? 180 : 120,
    icmp_timeout: 30,
    generic_timeout: 600,
  };
  return table[leaf];
}

export interface TimeoutAdvice {
  /** What dominates: `TIME_WAIT`, `ESTABLISHED`, `UNREPLIED udp` … */
  what: string;
  leaf: string;
  key: string;
  current: number;
  currentEvidence?: Evidence;
  kernelDefault?: number;
  proposed: number;
  /** Entries of this kind in the dump, and their share. */
  entries: number;
  share: number;
  /** Entries idle for more than an hour (ESTABLISHED only, when derivable). */
  idle?: number;
  /** ESTABLISHED entries of connections known to be closed (teardown never seen by conntrack). */
  dead?: number;
  /** The configured timeout is above the kernel default. */
  raised: boolean;
  /** Entries the new timeout would remove at steady state (estimate). */
  freed: number;
  why: string;
}

const TCP_STATE_LEAF: Record<string, { leaf: string; proposed: number }> = {
  TIME_WAIT: { leaf: "tcp_timeout_time_wait", proposed: 30 },
  CLOSE_WAIT: { leaf: "tcp_timeout_close_wait", proposed: 60 },
  FIN_WAIT: { leaf: "tcp_timeout_fin_wait", proposed: 30 },
  SYN_SENT: { leaf: "tcp_timeout_syn_sent", proposed: 30 },
  SYN_RECV: { leaf: "tcp_timeout_syn_recv", proposed: 30 },
  LAST_ACK: { leaf: "tcp_timeout_last_ack", proposed: 30 },
};

/**
 * The timeout whose shortening would free most of the table, from the dump's composition.
 * ESTABLISHED counts only when its entries are idle (remaining timeout far below the configured
 * one): lowering the timeout does nothing for connections that carry traffic.
 */
export function timeoutAdvice(facts: Facts, opts: { deadEstablished?: string } = {}): TimeoutAdvice | undefined {
  const t = facts.first("conntrack-table")?.value;
  if (!t || t.entries < 20) return undefined;
  const n = t.entries;
  const cur = (leaf: string): { value: number; evidence?: Evidence } | undefined => {
    const v = facts.sysctlNumber(ctKey(facts, leaf)) ?? facts.sysctlNumber(`net.netfilter.nf_conntrack_${leaf}`);
    if (v) return { value: v.value, evidence: v.evidence };
    const d = defaultTimeout(facts, leaf);
    return d === undefined ? undefined : { value: d };
  };
  const out: TimeoutAdvice[] = [];
  const mk = (what: string, leaf: string, entries: number, proposedFloor: number, why: string, idle?: number, dead?: number): void => {
    const c = cur(leaf);
    if (!c) return;
    const def = defaultTimeout(facts, leaf);
    const proposed = Math.min(c.value, proposedFloor);
    if (proposed >= c.value) return;
    const gone = idle ?? dead;
    const freed = Math.round(gone !== undefined ? gone : entries * (1 - proposed / c.value));
    out.push({
      what,
      leaf,
      key: ctKey(facts, leaf),
      current: c.value,
      ...(c.evidence ? { currentEvidence: c.evidence } : {}),
      ...(def !== undefined ? { kernelDefault: def } : {}),
      proposed,
      entries,
      share: entries / n,
      ...(idle !== undefined ? { idle } : {}),
      ...(dead !== undefined ? { dead } : {}),
      raised: def !== undefined && c.value > def,
      freed,
      why,
    });
  };
  for (const s of t.byTcpState.items) {
    const spec = TCP_STATE_LEAF[s.key];
    if (spec && s.count >= 0.4 * n) mk(s.key, spec.leaf, s.count, spec.proposed, `${s.key} entries belong to connections that are closing or closed`);
  }
  const est = t.byTcpState.items.find((s) => s.key === "ESTABLISHED");
  if (est && est.count >= 0.5 * n) {
    const c = cur("tcp_timeout_established");
    let idle: number | undefined;
    if (c?.value === 432000) idle = Math.max(0, t.timeouts.under1d + t.timeouts.atLeast1d - t.timeouts.nearTcpEstablishedDefault);
    else if (c && c.value >= 90000) idle = t.timeouts.under1d; // remaining < 1 day: idle > configured − 1 day ≥ 1 h
    const ka = facts.sysctlNumber("net.ipv4.tcp_keepalive_time")?.value ?? 7200;
    if (opts.deadEstablished) mk("ESTABLISHED", "tcp_timeout_established", est.count, Math.max(3600, 2 * ka), opts.deadEstablished, undefined, est.count);
    else if (idle !== undefined && idle >= 0.3 * n)
      mk("idle ESTABLISHED", "tcp_timeout_established", est.count, Math.max(3600, 2 * ka), `ESTABLISHED entries idle for more than an hour keep their slot for up to ${c?.value} s`, idle);
  }
  const udp = t.byL4.items.find((i) => i.key === "udp")?.count ?? 0;
  const unreplied = t.byFlag.items.find((i) => i.key === "UNREPLIED")?.count ?? 0;
  const udpUnreplied = Math.min(udp, unreplied);
  if (udpUnreplied >= 0.4 * n) mk("UNREPLIED udp", "udp_timeout", udpUnreplied, 10, "UDP flows that never got a reply (scans, DNS to dead servers, one-way streams) stay until udp_timeout");
  const assured = t.byFlag.items.find((i) => i.key === "ASSURED")?.count ?? 0;
  const udpStream = Math.min(udp - udpUnreplied, assured);
  if (udpStream >= 0.4 * n) mk("UDP streams", "udp_timeout_stream", udpStream, defaultTimeout(facts, "udp_timeout_stream") ?? 120, "replied UDP flows stay until udp_timeout_stream");
  out.sort((a, b) => b.freed - a.freed);
  return out[0];
}

export function timeoutFix(facts: Facts, a: TimeoutAdvice, o: { cureLikelihood: number }): FixDraft {
  return {
    title: `Lower ${a.key} from ${a.current} to ${a.proposed} s`,
    rationale: `${a.what} make up ${pct(a.entries, facts.first("conntrack-table")?.value.entries ?? a.entries)} of the table (${a.entries} entries). ${a.why}. At ${a.proposed} s about ${a.freed} of them would be gone${a.idle !== undefined ? ` (${a.idle} have been idle for over an hour)` : a.dead !== undefined ? " (their connections are closed)" : " at steady state"}. Kernel default: ${a.kernelDefault ?? "n/a"} s${a.raised ? " (the current value was raised above it)" : ""}.`,
    commands: [`sysctl -w ${a.key}=${a.proposed}`],
    persist: [`echo '${a.key} = ${a.proposed}' >> /etc/sysctl.d/90-nfdiag-conntrack.conf`],
    verify: [`sysctl ${a.key}   # expect ${a.proposed}`, "cat /proc/sys/net/netfilter/nf_conntrack_count   # falls within a few timeouts"],
    rollback: [`sysctl -w ${a.key}=${a.current}`, `sed -i '/${a.key.replace(/\./g, "\\.")}/d' /etc/sysctl.d/90-nfdiag-conntrack.conf`],
    risk:
      a.leaf === "tcp_timeout_established"
        ? `Connections silent for longer than ${a.proposed} s lose their entry; with ctstate rules their next packet may be dropped as INVALID unless nf_conntrack_tcp_loose=1 (default) picks them up again. Applications should use TCP keepalives.`
        : "Only affects entries in this state; existing traffic is not interrupted.",
    cureLikelihood: o.cureLikelihood,
  };
}

interface TeardownDrop {
  rule: UnifiedRule;
  /** The rule's line in the bundle, or its detail and target when the line is not kept. */
  line: string;
  /** The tcp-flags part of the line. */
  highlight: string | undefined;
}

const teardownDrops = new WeakMap<Facts, TeardownDrop[]>();

/**
 * Live rules that drop TCP FIN or RST before conntrack sees them (raw table / raw-priority hook):
 * conntrack never sees the teardown, so ESTABLISHED entries outlive their connections. Found once
 * per bundle; the evidence is made anew for each caller.
 */
export function teardownDropRules(facts: Facts): { rule: UnifiedRule; evidence: Evidence }[] {
  let found = teardownDrops.get(facts);
  if (!found) teardownDrops.set(facts, (found = findTeardownDrops(facts)));
  return found.map(({ rule: r, line, highlight }) => ({
    rule: r,
    evidence: facts.evidence(r.origin, { path: r.path, line: r.line }, line.trim(), { ...(highlight ? { highlight } : {}), note: "drops TCP teardown packets before conntrack sees them" }),
  }));
}

/** Whether a rule's detail puts it in the raw hook (nft: a base chain of raw priority). */
function hasRawPriority(detail: string): boolean {
  // includes() first: the regular expression is the slow part for 200,000 rules that mostly fail it.
  return detail.includes("priority ") && /priority (raw|-300)\b/.test(detail);
}

function findTeardownDrops(facts: Facts): TeardownDrop[] {
  const out: TeardownDrop[] = [];
  for (const r of liveRules(facts)) {
    // Most of 200,000 rules are not in raw: they leave before any text is built.
    const raw = r.table === "raw" || hasRawPriority(r.detail);
    if (!raw) continue;
    const text = `${r.detail} ${r.target ?? ""} ${r.targetOptions ?? ""}`;
    const teardown = /--tcp-flags\s+\S*(FIN|RST)\S*\s+\S*(FIN|RST)|tcp flags\s*&\s*\(?\s*(fin|rst)|tcp flags (fin|rst)/i.test(text);
    const drops = /^(DROP|REJECT)$/.test(r.target ?? "") || /\b(drop|reject)\b/.test(r.detail);
    if (!teardown || !drops) continue;
    const line = facts.lineText(r.path, r.line) ?? text;
    const hi = /--tcp-flags \S+ \S+|tcp flags & \w+ == \w+/.exec(line)?.[0];
    const flag = /fin/i.test(hi ?? text) ? "fin" : "rst";
    // The same kernel rule shows up in iptables-nft-save and in nft list ruleset: keep the first view.
    if (out.some((o) => o.rule.netns === r.netns && o.rule.chain === r.chain && (/fin/i.test(o.highlight ?? o.line) ? "fin" : "rst") === flag)) continue;
    out.push({ rule: r, line, highlight: hi });
  }
  return out;
}

/** Modules of conntrack helpers (ftp, sip, h323 …) that are loaded, with evidence. */
export function loadedHelpers(facts: Facts): { name: string; evidence: Evidence }[] {
  const out: { name: string; evidence: Evidence }[] = [];
  for (const [name, ev] of facts.loadedModules ?? new Map<string, Evidence>()) {
    if (/^(nf|ip)_conntrack_(ftp|sip|h323|irc|tftp|amanda|pptp|snmp|sane|netbios_ns|broadcast|proto_gre)$/.test(name) || /^nf_nat_(ftp|sip|h323|irc|tftp|amanda|pptp|snmp_basic)$/.test(name)) out.push({ name, evidence: ev });
  }
  return out;
}
