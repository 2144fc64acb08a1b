/**
 * Message classes of kernel and firewall-related syslog messages, and the pattern table that
 * assigns them. Shared by the kernel-log parser, analyzers and the timeline.
 *
 * Every pattern was taken from kernel-facts.md §1 (all kernel eras) or from real captures:
 *   nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet   (6.18, lab)
 *   nf_conntrack: nf_conntrack: table full, dropping packet                       (6.1, sosreport)
 *   x_tables: ip_tables: MASQUERADE target: used from hooks PREROUTING, but only usable from POSTROUTING
 *   iptables v1.8.9 (nf_tables): Couldn't load match `klogmissing':No such file or directory
 *
 * A pattern has a cheap substring `hint` (checked with `includes` before its regex runs) and an
 * anchored or literal-led regex without nested quantifiers, so untrusted text cannot make it hang.
 */
import { z } from "zod";
import { isLogPacket, parseLogPacket } from "./log-packet.js";

const int = z.number().int();
const optStr = z.string().optional();

/** Captured fields per class. Every class has an object (possibly empty). */
export const klogFieldSchemas = {
  "ct-table-full": z.object({
    /** `ip_conntrack` (≤ 2.6.2x, OpenVZ) or `nf_conntrack`. */
    module: z.enum(["ip_conntrack", "nf_conntrack"]),
    /** `nf_conntrack: nf_conntrack:` (4.7+ pr_fmt). */
    doubledPrefix: z.boolean(),
    /** Trailing period (≤ 3.4 and ip_conntrack). */
    trailingPeriod: z.boolean(),
    /** Netns inode number (6.17+, non-init netns). */
    netns: optStr,
    /** OpenVZ / Virtuozzo container id. */
    vps: optStr,
  }),
  "ct-expect-full": z.object({}),
  "ct-banner": z.object({ module: z.enum(["ip_conntrack", "nf_conntrack"]), version: z.string(), buckets: int, max: int }),
  "module-banner": z.object({ module: z.string(), version: optStr, protocol: int.optional() }),
  "ct-vmalloc-fallback": z.object({ module: z.string() }),
  "ct-helper-notice": z.object({ kind: z.enum(["deprecated", "turned-off", "generic-helper"]), protocol: int.optional() }),
  "xt-error": z.object({
    /** ip, ip6, arp, eb. */
    family: z.string(),
    kind: z.enum(["match", "target"]),
    name: z.string(),
    revision: int.optional(),
    reason: z.string(),
    kernelSize: int.optional(),
    userSize: int.optional(),
  }),
  "xt-recent": z.object({ reason: z.string(), hitcount: int.optional(), max: int.optional() }),
  "log-packet": z.object({
    /** The --log-prefix text (may be empty), trimmed. */
    prefix: z.string(),
    in: z.string(),
    out: z.string(),
    src: optStr,
    dst: optStr,
    proto: optStr,
    spt: int.optional(),
    dpt: int.optional(),
  }),
  "alloc-failure": z.object({
    kind: z.enum(["page", "vmalloc"]),
    comm: optStr,
    order: int.optional(),
    /** Requested bytes (vmalloc). */
    size: int.optional(),
    detail: optStr,
  }),
  "alloc-trace": z.object({ symbol: z.string() }),
  "oom-kill": z.object({ kind: z.enum(["killed", "invoked"]), pid: int.optional(), comm: optStr }),
  "avc-denial": z.object({ permission: optStr, comm: optStr, scontext: optStr, tcontext: optStr, tclass: optStr }),
  "neigh-overflow": z.object({ table: optStr }),
  "tw-bucket-overflow": z.object({}),
  "ipset-full": z.object({ set: z.string(), maxelem: int }),
  "ipset-resize-failed": z.object({ set: z.string() }),
  "ratelimit-summary": z.object({ func: z.string(), suppressed: int }),
  "ipt-load-error": z.object({ kind: z.enum(["match", "target"]), name: z.string(), detail: optStr }),
  "ipt-extension-unsupported": z.object({ name: z.string(), revision: int.optional() }),
  "ipt-no-such": z.object({}),
  "ipt-einval": z.object({}),
  "ipt-table-init": z.object({ table: z.string(), reason: z.string() }),
  "ipt-enomem": z.object({}),
  "ipt-restore-failed": z.object({ lineNo: int, op: optStr, reason: optStr }),
  "ipt-nft-op-failed": z.object({ op: z.string(), reason: z.string() }),
  "ipt-lock": z.object({}),
  "nft-error": z.object({ reason: z.string() }),
  "ipset-hash-full": z.object({}),
  "modprobe-not-found": z.object({ module: z.string(), dir: optStr }),
  "modprobe-install-error": z.object({ command: z.string(), module: z.string(), retcode: int.optional() }),
  "sysctl-write-failed": z.object({ key: z.string(), value: optStr, reason: optStr }),
  "unit-failed": z.object({ unit: optStr, detail: z.string() }),
  "kernel-version": z.object({ version: z.string() }),
  other: z.object({}),
} as const;

export type KlogClass = keyof typeof klogFieldSchemas;
export const KLOG_CLASSES = Object.keys(klogFieldSchemas) as [KlogClass, ...KlogClass[]];
/** Zod enum of every message class. */
export const klogClassSchema = z.enum(KLOG_CLASSES);
export type KlogFieldsFor<C extends KlogClass> = z.infer<(typeof klogFieldSchemas)[C]>;

/** Classes printed through net_*_ratelimited() / net_ratelimit(): `net_ratelimit: N callbacks suppressed` belongs to them. */
export const NET_RATELIMITED_CLASSES: readonly KlogClass[] = ["ct-table-full", "ct-expect-full", "neigh-overflow", "tw-bucket-overflow"];

export interface KlogPattern<C extends KlogClass = KlogClass> {
  cls: C;
  /** Cheap substring that must be present before the regex runs. */
  hint: string;
  re: RegExp;
  fields: (m: RegExpExecArray) => KlogFieldsFor<C>;
}

function pattern<C extends KlogClass>(cls: C, hint: string, re: RegExp, fields: (m: RegExpExecArray) => KlogFieldsFor<C>): KlogPattern<C> {
  return { cls, hint, re, fields };
}

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number.parseInt(s, 10));
const ctModule = (s: string | undefined): "ip_conntrack" | "nf_conntrack" => (s === "ip_conntrack" ? "ip_conntrack" : "nf_conntrack");
/**
 * Drop undefined members so outputs compare and serialise cleanly: a copy without them, members in
 * the same order (a copy rather than `delete`, which would turn the object into a slow dictionary).
 */
function clean<T extends object>(o: T): T {
  const r: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined) r[k] = v;
  }
  return r as T;
}

/**
 * The pattern table, first match wins. `log-packet` is recognised separately (see log-packet.ts)
 * because its prefix is free text.
 */
export const klogPatterns: readonly KlogPattern[] = [
  pattern(
    "ct-table-full",
    "table full",
    /^(?:(ip_conntrack|nf_conntrack): )?(?:(ip_conntrack|nf_conntrack): )?(?:VPS (\d+) )?table full(?: in netns (\d+))?, dropping(?: packet(\.)?)?/,
    (m) =>
      clean({
        module: ctModule(m[1]),
        doubledPrefix: m[2] !== undefined,
        trailingPeriod: m[5] !== undefined,
        netns: m[4],
        vps: m[3],
      }),
  ),
  pattern("ct-expect-full", "expectation table full", /^(?:nf_conntrack: )?expectation table full/, () => ({})),
  pattern(
    "ct-banner",
    " buckets, ",
    /^(nf_conntrack|ip_conntrack) version (\S+) \((\d+) buckets, (\d+) max/,
    (m) => ({ module: ctModule(m[1]), version: m[2] ?? "", buckets: num(m[3]) ?? 0, max: num(m[4]) ?? 0 }),
  ),
  pattern("module-banner", "Netfilter Core Team", /^(ip6?_tables|arp_tables|ebtables): \(C\) /, (m) => ({ module: m[1] ?? "" })),
  pattern("module-banner", "via NETLINK", /^Netfilter messages via NETLINK v(\S+?)\.?$/, (m) => clean({ module: "nfnetlink", version: m[1] })),
  pattern("module-banner", "ctnetlink", /^ctnetlink v(\S+): registering with nfnetlink/, (m) => clean({ module: "ctnetlink", version: m[1] })),
  pattern("module-banner", "Patrick McHardy", /^nf_tables: \(c\) /, () => ({ module: "nf_tables" })),
  pattern("module-banner", "ip_set: protocol", /^ip_set: protocol (\d+)/, (m) => clean({ module: "ip_set", protocol: num(m[1]) })),
  pattern("ct-vmalloc-fallback", "falling back to vmalloc", /^(nf_conntrack|ip_conntrack): falling back to vmalloc/, (m) => ({ module: m[1] ?? "" })),
  pattern("ct-helper-notice", "automatic helper assignment is deprecated", /automatic helper assignment is deprecated/, () => ({ kind: "deprecated" as const })),
  pattern("ct-helper-notice", "default automatic helper assignment", /default automatic helper assignment has been turned off/, () => ({ kind: "turned-off" as const })),
  pattern("ct-helper-notice", "generic helper", /generic helper won't handle protocol (\d+)/, (m) => clean({ kind: "generic-helper" as const, protocol: num(m[1]) })),
  pattern(
    "xt-error",
    "_tables: ",
    /^(?:x_tables: )?(ip|ip6|arp|eb)_tables: (\S+) (match|target): (.+)$/,
    (m) => {
      const full = m[2] ?? "";
      const dot = full.lastIndexOf(".");
      const rev = dot > 0 && /^\d+$/.test(full.slice(dot + 1)) ? num(full.slice(dot + 1)) : undefined;
      const reason = m[4] ?? "";
      const size = /^invalid size (\d+) (?:\(kernel\) )?!= (?:\(user\) )?(\d+)/.exec(reason);
      return clean({
        family: m[1] ?? "",
        kind: m[3] === "target" ? ("target" as const) : ("match" as const),
        name: rev === undefined ? full : full.slice(0, dot),
        revision: rev,
        reason,
        kernelSize: num(size?.[1]),
        userSize: num(size?.[2]),
      });
    },
  ),
  pattern("xt-recent", "xt_recent: ", /^xt_recent: (.+)$/, (m) => {
    const reason = m[1] ?? "";
    const h = /^hitcount \((\d+)\) is larger than (?:allowed maximum|packets to be remembered) \((\d+)\)/.exec(reason);
    return clean({ reason, hitcount: num(h?.[1]), max: num(h?.[2]) });
  }),
  pattern("xt-recent", "hitcount (", /^(hitcount \((\d+)\) is larger than (?:allowed maximum|packets to be remembered) \((\d+)\))/, (m) =>
    clean({ reason: m[1] ?? "", hitcount: num(m[2]), max: num(m[3]) }),
  ),
  pattern("alloc-failure", "page allocation failure", /^(?:(\S+?): )?page allocation failure[.:] order:(\d+)/, (m) =>
    clean({ kind: "page" as const, comm: m[1], order: num(m[2]) }),
  ),
  pattern(
    "alloc-failure",
    "vmalloc: allocation failure",
    /^(?:(\S+?): )?vmalloc: allocation failure(?:, allocated \d+ of (\d+) bytes|: (\d+) bytes)?/,
    (m) => clean({ kind: "vmalloc" as const, comm: m[1], size: num(m[2] ?? m[3]) }),
  ),
  pattern("alloc-failure", "vmalloc error: ", /^(?:(\S+?): )?vmalloc error: size (\d+), ([^,]*), (.+)$/, (m) =>
    clean({ kind: "vmalloc" as const, comm: m[1], size: num(m[2]), detail: m[4] }),
  ),
  pattern(
    "alloc-trace",
    "+0x",
    /^(?:\[<[0-9a-f]+>\] )?(?:\? )?(xt_alloc_table_info|do_ipt_set_ctl|do_ip6t_set_ctl|nf_setsockopt|_{0,2}nf_conntrack\w*|nf_ct_\w+)\+0x/,
    (m) => ({ symbol: m[1] ?? "" }),
  ),
  pattern("oom-kill", "Kill", /^(?:Memory cgroup )?[Oo]ut of memory(?: \([^)]*\))?: Kill(?:ed)? process (\d+) \(([^)]*)\)/, (m) =>
    clean({ kind: "killed" as const, pid: num(m[1]), comm: m[2] }),
  ),
  pattern("oom-kill", " invoked oom-killer", /^(\S+) invoked oom-killer/, (m) => clean({ kind: "invoked" as const, comm: m[1] })),
  pattern("avc-denial", "avc:", /avc: {1,2}denied {1,2}\{ ([^}]{0,200}) \}/, (m) => {
    const rest = m.input.slice(m.index + m[0].length, m.index + m[0].length + 1024);
    const kv = (key: string): string | undefined => {
      const at = rest.indexOf(` ${key}=`);
      if (at < 0) return undefined;
      const v = /^"?([^"\s]*)/.exec(rest.slice(at + key.length + 2));
      return v?.[1];
    };
    return clean({ permission: (m[1] ?? "").trim(), comm: kv("comm"), scontext: kv("scontext"), tcontext: kv("tcontext"), tclass: kv("tclass") });
  }),
  pattern("neigh-overflow", "neighbor table overflow", /^(?:neighbour: )?(\w+): neighbor table overflow/, (m) => clean({ table: m[1] })),
  pattern("neigh-overflow", "Neighbour table overflow", /^(?:(\w+): )?Neighbour table overflow/, (m) => clean({ table: m[1] })),
  pattern("tw-bucket-overflow", "time wait bucket", /^(?:TCP: ?)?time wait bucket table overflow/, () => ({})),
  pattern("ipset-full", "is full, maxelem", /^Set (\S+) is full, maxelem (\d+) reached/, (m) => ({ set: m[1] ?? "", maxelem: num(m[2]) ?? 0 })),
  pattern("ipset-resize-failed", "Cannot increase the hashsize", /^Cannot increase the hashsize of set (\S+)/, (m) => ({ set: m[1] ?? "" })),
  pattern("ratelimit-summary", " suppressed", /^([\w.$]+): (\d+) (?:callbacks|messages) suppressed/, (m) => ({ func: m[1] ?? "", suppressed: num(m[2]) ?? 0 })),
  // Userspace (syslog lines of iptables, ipset, nft, modprobe, systemd).
  pattern("ipt-load-error", "Couldn't load ", /Couldn't load (match|target) `([^']*)'(?::(.*))?/, (m) =>
    clean({ kind: m[1] === "target" ? ("target" as const) : ("match" as const), name: m[2] ?? "", detail: m[3] }),
  ),
  pattern("ipt-extension-unsupported", "Extension ", /Extension (\S+) (?:revision (\d+) not supported|is not supported)/, (m) =>
    clean({ name: m[1] ?? "", revision: num(m[2]) }),
  ),
  pattern("ipt-no-such", "No chain/target/match by that name", /No chain\/target\/match by that name/, () => ({})),
  pattern("ipt-einval", "Run `dmesg'", /Invalid argument\. Run `dmesg' for more information/, () => ({})),
  pattern("ipt-table-init", "can't initialize", /can't initialize (?:ip6?tables|arptables|ebtables) table `([^']*)': (.*)$/, (m) => ({
    table: m[1] ?? "",
    reason: m[2] ?? "",
  })),
  pattern("ipt-enomem", "Memory allocation problem", /Memory allocation problem/, () => ({})),
  pattern("ipt-restore-failed", "line ", /(?:^|: )line (\d+)(?: failed|: ([A-Z][A-Z_]*) failed(?: \(([^)]*)\))?)/, (m) =>
    clean({ lineNo: num(m[1]) ?? 0, op: m[2], reason: m[3] }),
  ),
  pattern("ipt-restore-failed", "at line", /(?:Error occurred at line: |COMMIT expected at line )(\d+)/, (m) => ({ lineNo: num(m[1]) ?? 0 })),
  pattern("ipt-nft-op-failed", " failed (", / ([A-Z][A-Z_]*) failed \(([^)]*)\)/, (m) => ({ op: m[1] ?? "", reason: m[2] ?? "" })),
  pattern("ipt-lock", "xtables lock", /holding the xtables lock/, () => ({})),
  pattern("nft-error", "Could not ", /(Could not (?:process rule|fetch rule set generation id)[^\n]*)$/, (m) => ({ reason: m[1] ?? "" })),
  pattern("ipset-hash-full", "is full", /Hash is full, cannot add more elements|The set is full, more elements cannot be added/, () => ({})),
  pattern("modprobe-not-found", "FATAL: Module ", /FATAL: Module (\S+) not found(?: in directory (\S+))?/, (m) => clean({ module: m[1] ?? "", dir: m[2] })),
  pattern("modprobe-install-error", "Error running install command", /Error running install command '([^']*)' for module (\S+?):? retcode (-?\d+)/, (m) =>
    clean({ command: m[1] ?? "", module: m[2] ?? "", retcode: num(m[3]) }),
  ),
  pattern("sysctl-write-failed", "Couldn't write", /Couldn't write '([^']*)' to '([^']*)'(?:, ignoring)?(?:: (.*))?$/, (m) =>
    clean({ value: m[1], key: m[2] ?? "", reason: m[3] }),
  ),
  pattern("sysctl-write-failed", "annot access", /[Cc]annot access '([^']*)'(?:, ignoring)?(?:: (.*))?$/, (m) => clean({ key: m[1] ?? "", reason: m[2] })),
  pattern("sysctl-write-failed", "cannot stat", /cannot stat (\S+?):? (No such file or directory|Permission denied.*)$/, (m) => clean({ key: m[1] ?? "", reason: m[2] })),
  pattern("unit-failed", ": Failed ", /^(\S+\.(?:service|socket|target)): (Failed .*)$/, (m) => ({ unit: m[1], detail: m[2] ?? "" })),
  pattern("unit-failed", "Failed to start ", /^Failed to start ((\S+\.(?:service|socket|target))?.*)$/, (m) => clean({ unit: m[2], detail: m[1] ?? "" })),
  pattern("kernel-version", "Linux version ", /^Linux version (\S+)/, (m) => ({ version: m[1] ?? "" })),
];

export interface Classified {
  cls: KlogClass;
  fields: KlogFieldsFor<KlogClass>;
}

/** Longest prefix of a message that classification looks at. */
export const CLASSIFY_MAX_CHARS = 4096;

/** classifyIndex() of a LOG-target packet line. */
export const LOG_PACKET_INDEX = -2;
/** classifyIndex() of a message no pattern matches. */
export const OTHER_INDEX = -1;

/** The part of a message text that classification reads: the first CLASSIFY_MAX_CHARS, trimmed. */
export function prepareText(text: string): string {
  return (text.length > CLASSIFY_MAX_CHARS ? text.slice(0, CLASSIFY_MAX_CHARS) : text).trim();
}

/**
 * Which rule classifies a prepared text (see prepareText): LOG_PACKET_INDEX, the index in
 * klogPatterns of the first pattern whose hint and regex match, or OTHER_INDEX. Builds no fields.
 */
export function classifyIndex(t: string): number {
  if (isLogPacket(t)) return LOG_PACKET_INDEX;
  for (let i = 0; i < klogPatterns.length; i++) {
    const p = klogPatterns[i] as KlogPattern;
    if (t.includes(p.hint) && p.re.test(t)) return i;
  }
  return OTHER_INDEX;
}

/** The class of a classifyIndex() result. */
export function classOfIndex(i: number): KlogClass {
  if (i === LOG_PACKET_INDEX) return "log-packet";
  return klogPatterns[i]?.cls ?? "other";
}

/** The fields of a prepared text whose classifyIndex() is `i`. */
export function fieldsOfIndex(i: number, t: string): KlogFieldsFor<KlogClass> {
  if (i === LOG_PACKET_INDEX) return parseLogPacket(t) ?? {};
  const p = klogPatterns[i];
  if (!p) return {};
  const m = p.re.exec(t);
  return m ? p.fields(m) : {};
}

/*
 * Whole-text shapes of the two messages that fill netfilter logs, so that the parser can classify
 * them with one capture-free regex (also folded into the line-prefix regexes of line-formats.ts).
 * A text of either shape is printable ASCII (no control character), has no surrounding space, is
 * shorter than CLASSIFY_MAX_CHARS, and contains no `IN=` (not a LOG line), so:
 * - CT_FULL_SHAPE is a case of the first pattern, ct-table-full: classifyIndex gives CT_FULL_INDEX;
 * - RATELIMIT_SHAPE holds no hint of a pattern before ratelimit-summary (its letters are fixed, the
 *   number is digits) and matches that pattern: classifyIndex gives RATELIMIT_INDEX, func
 *   net_ratelimit, and the number (at most 15 digits, exact) as the count.
 * test/parsers/kernel-log-fast.test.ts ("whole-text shapes") checks this on varied texts and near misses.
 */
export const CT_FULL_INDEX = klogPatterns.findIndex((p) => p.cls === "ct-table-full");
export const RATELIMIT_INDEX = klogPatterns.findIndex((p) => p.cls === "ratelimit-summary");
export const CT_FULL_SHAPE = String.raw`(?:(?:nf|ip)_conntrack: ){0,2}table full(?: in netns \d{1,20})?, dropping packet\.?`;
export const RATELIMIT_SHAPE = String.raw`net_ratelimit: \d{1,15} callbacks suppressed`;
/** Either shape, to the end of the line. */
export const KNOWN_SHAPES = `(?:${CT_FULL_SHAPE}|${RATELIMIT_SHAPE})$`;
export const SHAPE_NONE = 0;
export const SHAPE_CT_FULL = 1;
export const SHAPE_RATELIMIT = 2;
/** Offset of the number in a RATELIMIT_SHAPE text. */
export const RATELIMIT_SHAPE_NUMBER = "net_ratelimit: ".length;

const CT_FULL_AT = new RegExp(`${CT_FULL_SHAPE}$`, "y");
const RATELIMIT_AT = new RegExp(`${RATELIMIT_SHAPE}$`, "y");

/** Which shape line.slice(at) has (SHAPE_NONE: neither). */
export function shapeAt(line: string, at: number): number {
  const c = line.charCodeAt(at);
  if (c === 0x6e || c === 0x69 || c === 0x74) {
    CT_FULL_AT.lastIndex = at;
    if (CT_FULL_AT.test(line)) return SHAPE_CT_FULL;
    if (c === 0x6e) {
      RATELIMIT_AT.lastIndex = at;
      if (RATELIMIT_AT.test(line)) return SHAPE_RATELIMIT;
    }
  }
  return SHAPE_NONE;
}

/** Which shape line.slice(at) has, knowing that it has one of them. */
export function knownShapeAt(line: string, at: number): number {
  // `ne`t_ratelimit against `nf`_, `ip`_ and `ta`ble.
  return line.charCodeAt(at + 1) === 0x65 ? SHAPE_RATELIMIT : SHAPE_CT_FULL;
}

/** Classify one message text (syslog/dmesg prefix already stripped). */
export function classifyMessage(text: string): Classified {
  const t = prepareText(text);
  const i = classifyIndex(t);
  return { cls: classOfIndex(i), fields: fieldsOfIndex(i, t) };
}
