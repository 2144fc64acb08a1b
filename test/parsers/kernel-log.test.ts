import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type KernelLogFacts, type KlogMessage, create, schema } from "../../src/parsers/kernel-log.js";
import { type ParseResult, parseText } from "../../src/parsers/types.js";

const COLLECTED = new Date("2026-11-22T08:00:00Z");
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kernel-log/${name}`, import.meta.url), "utf8");

function run(text: string, collectedAt: Date | null = COLLECTED, path = "dmesg"): ParseResult<KernelLogFacts> {
  const r = parseText(create, text, collectedAt ? { path, collectedAt } : { path });
  schema.parse(r.value);
  return r;
}
const ofClass = <C extends KlogMessage["class"]>(v: KernelLogFacts, cls: C): Extract<KlogMessage, { class: C }>[] =>
  v.messages.filter((m): m is Extract<KlogMessage, { class: C }> => m.class === cls);

describe("kernel-log: real captures", () => {
  it("dmesg of a child netns with a full table (kernel 6.18 lab)", () => {
    const { value: v, warnings } = run(fixture("dmesg-netns-table-full.txt"));
    expect(warnings).toEqual([]);
    expect(v.formats).toEqual(["dmesg"]);
    const full = ofClass(v, "ct-table-full");
    expect(new Set(full.map((m) => m.fields.netns))).toEqual(new Set(["4026532246", "4026532177"]));
    expect(full[0]?.fields).toMatchObject({ module: "nf_conntrack", doubledPrefix: true, trailingPeriod: false });
    // 7 + 7 + 6 + 470 hidden by net_ratelimit
    expect(v.classes["ct-table-full"]).toMatchObject({ count: 41, suppressed: 490, total: 531 });
    // The 470 were refused after the burst that ends at line 34: credited there (see ratelimit.ts).
    const big = full.find((m) => m.suppressed === 470);
    expect(big?.provenance.line).toBe(34);
    expect(big?.fields.netns).toBe("4026532177");
    expect(v.logPacketCount).toBe(40);
    expect(v.logPacketShare).toBeCloseTo(40 / 86);
    expect(ofClass(v, "log-packet")[0]?.fields).toEqual({
      prefix: "KLOG-IN:", in: "klog-v0", out: "", src: "10.213.7.2", dst: "10.213.7.1", proto: "UDP", spt: 54533, dpt: 9999,
    });
    expect(ofClass(v, "xt-error")[0]?.fields).toEqual({
      family: "ip", kind: "target", name: "MASQUERADE", reason: "used from hooks PREROUTING, but only usable from POSTROUTING",
    });
    expect(v.startsAtBoot).toBe(false);
    expect(v.firstUptime).toBe(248.860918);
    expect(v.lastUptime).toBe(276.245095);
    expect(v.unattributedSuppressed).toBe(0);
  });

  it("sosreport dmesg (Debian 12, 6.1): starts at boot, classic doubled prefix", () => {
    const { value: v } = run(fixture("sos-dmesg-table-full.txt"), null, "sos_commands/kernel/dmesg");
    expect(v.startsAtBoot).toBe(true);
    expect(v.classes["kernel-version"]?.count).toBe(1);
    expect(ofClass(v, "kernel-version")[0]?.fields.version).toBe("6.1.0-56-amd64");
    expect(v.classes["ct-table-full"]).toMatchObject({ count: 43, suppressed: 40, total: 83 });
    expect(v.classes["ct-table-full"]?.first.provenance).toEqual({ path: "sos_commands/kernel/dmesg", line: 6 });
    expect(ofClass(v, "ct-table-full").every((m) => m.fields.netns === undefined && m.fields.doubledPrefix)).toBe(true);
    // EXT4/virtio lines are `other` and not kept
    expect(v.otherDropped).toBe(4);
    expect(v.messages.some((m) => m.class === "other")).toBe(false);
  });

  it("dmesg -r keeps the <N> level", () => {
    const { value: v } = run(fixture("dmesg-r-levels.txt"));
    const full = ofClass(v, "ct-table-full");
    expect(full[0]?.level).toBe(4);
    expect(full[0]?.uptime).toBe(267.087928);
    expect(ofClass(v, "ratelimit-summary")[0]?.level).toBe(4);
  });

  it("dmesg -T and --time-format iso give wall-clock times", () => {
    const t = run(fixture("dmesg-T.txt")).value;
    expect(t.formats).toEqual(["dmesg-ctime"]);
    expect(t.firstTime).toBe("2026-11-22T07:15:35");
    expect(ofClass(t, "ct-table-full")[0]?.suppressed).toBe(6);
    const iso = run(fixture("dmesg-iso.txt")).value;
    expect(iso.formats).toEqual(["dmesg-iso"]);
    expect(ofClass(iso, "ct-table-full")[0]?.time).toBe("2026-11-22T07:15:35.087928+00:00");
    expect(iso.classes["ct-table-full"]?.total).toBe(t.classes["ct-table-full"]?.total);
  });

  it("rsyslog default (RFC 3339) with embedded uptime and userspace errors", () => {
    const { value: v } = run(fixture("kern-rsyslog-default.txt"), null, "var/log/kern.log");
    expect(v.formats).toEqual(["rfc3339"]);
    const first = v.messages[0];
    expect(first).toMatchObject({ host: "lab-host", program: "kernel", uptime: 258.7842, time: "2026-11-22T07:15:32.011660+00:00", class: "ct-table-full" });
    expect(first?.text).toBe("nf_conntrack: nf_conntrack: table full in netns 4026532246, dropping packet");
    const byClass = (c: KlogMessage["class"]) => v.messages.find((m) => m.class === c);
    expect(byClass("ipt-einval")?.program).toBe("iptables");
    expect(byClass("ipset-hash-full")?.program).toBe("ipset");
    expect(ofClass(v, "ipt-extension-unsupported")[0]?.fields).toEqual({ name: "ipvs", revision: 0 });
    expect(ofClass(v, "ipt-load-error")[0]?.fields).toEqual({ kind: "match", name: "klogmissing", detail: "No such file or directory" });
    expect(ofClass(v, "ipt-restore-failed")[0]?.fields).toEqual({ lineNo: 3, op: "RULE_APPEND", reason: "No such file or directory" });
    expect(ofClass(v, "ipt-nft-op-failed")[0]?.fields).toEqual({ op: "RULE_APPEND", reason: "No such file or directory" });
    expect(ofClass(v, "modprobe-not-found")[0]?.fields).toEqual({ module: "xt_recent", dir: "/lib/modules/6.18.0-lab" });
    // unclassified iptables lines are kept because analyzers need them
    expect(ofClass(v, "other").map((m) => m.program)).toEqual(["iptables", "iptables", "iptables-restore"]);
  });

  it("rsyslog traditional: year from the collection date, none without it", () => {
    const { value: v, warnings } = run(fixture("kern-rsyslog-traditional.txt"));
    expect(v.formats).toEqual(["syslog"]);
    expect(v.firstTime).toBe("2026-11-22T07:15:32");
    expect(warnings).toEqual([]);
    const noDate = run(fixture("kern-rsyslog-traditional.txt"), null);
    expect(noDate.value.firstTime).toBeUndefined();
    expect(noDate.value.messages[0]?.uptime).toBe(258.7842);
    expect(noDate.warnings.filter((w) => w.message.includes("no year"))).toHaveLength(1);
  });

  it("seed 001 syslog lines: trailing-period era and the load banners", () => {
    const { value: v } = run(fixture("seed-001-syslog.txt"), new Date("2012-08-14T10:00:00Z"));
    const full = ofClass(v, "ct-table-full");
    expect(full).toHaveLength(2);
    expect(full[0]).toMatchObject({ host: "ams-mid006.int.s-cloud.net", uptime: 8623919.136122, time: "2012-08-13T14:46:52" });
    expect(full[0]?.fields).toEqual({ module: "nf_conntrack", doubledPrefix: false, trailingPeriod: true });
    expect(ofClass(v, "ct-banner")[0]?.fields).toEqual({ module: "nf_conntrack", version: "0.5.0", buckets: 16384, max: 65536 });
    expect(ofClass(v, "module-banner")[0]?.fields).toEqual({ module: "ip_tables" });
  });
});

describe("kernel-log: every era (derived from kernel-facts.md)", () => {
  const { value: v, warnings } = run(fixture("derived-old-kernels.txt"));
  const at = (line: number) => v.messages.find((m) => m.provenance.line === line);

  it.each([
    [2, "ct-banner", { module: "ip_conntrack", version: "2.4", buckets: 8192, max: 65536 }],
    [3, "ct-vmalloc-fallback", { module: "ip_conntrack" }],
    [4, "ct-table-full", { module: "ip_conntrack", doubledPrefix: false, trailingPeriod: true }],
    [5, "ct-table-full", { module: "ip_conntrack", doubledPrefix: false, trailingPeriod: true, vps: "101" }],
    [8, "neigh-overflow", {}],
    [9, "tw-bucket-overflow", {}],
    [10, "xt-error", { family: "ip", kind: "target", name: "DNAT", reason: "invalid size 32 != 24", kernelSize: 32, userSize: 24 }],
    [12, "ct-table-full", { module: "nf_conntrack", doubledPrefix: false, trailingPeriod: false }],
    [13, "neigh-overflow", { table: "ipv4" }],
    [14, "ct-banner", { module: "nf_conntrack", version: "0.5.0", buckets: 7933, max: 31732 }],
    [16, "module-banner", { module: "ctnetlink", version: "0.93" }],
    [17, "module-banner", { module: "nfnetlink", version: "0.30" }],
    [18, "module-banner", { module: "nf_tables" }],
    [19, "module-banner", { module: "ip_set", protocol: 6 }],
    [20, "module-banner", { module: "ip6_tables" }],
    [21, "ct-helper-notice", { kind: "deprecated" }],
    [22, "ct-helper-notice", { kind: "turned-off" }],
    [23, "ct-helper-notice", { kind: "generic-helper", protocol: 47 }],
    [24, "xt-error", { family: "ip", kind: "target", name: "DNAT", revision: 0, reason: "invalid size 32 (kernel) != (user) 24", kernelSize: 32, userSize: 24 }],
    [25, "xt-error", { family: "ip6", kind: "match", name: "conntrack", reason: "used from hooks OUTPUT, but only valid from PREROUTING/INPUT" }],
    [26, "xt-recent", { reason: "hitcount (30) is larger than packets to be remembered (20)", hitcount: 30, max: 20 }],
    [27, "xt-recent", { reason: "hitcount (300) is larger than allowed maximum (255)", hitcount: 300, max: 255 }],
    [28, "ct-expect-full", {}],
    [30, "neigh-overflow", { table: "arp_cache" }],
    [31, "ipset-full", { set: "blocklist", maxelem: 65536 }],
    [32, "ipset-resize-failed", { set: "blocklist" }],
    [33, "alloc-failure", { kind: "vmalloc", comm: "iptables-restor", size: 475136 }],
    [34, "alloc-failure", { kind: "page", comm: "iptables-restor", order: 7 }],
    [36, "alloc-trace", { symbol: "xt_alloc_table_info" }],
    [37, "alloc-trace", { symbol: "do_ipt_set_ctl" }],
    [40, "alloc-failure", { kind: "vmalloc", comm: "iptables", size: 475136, detail: "failed to allocate pages" }],
    [41, "oom-kill", { kind: "invoked", comm: "iptables-restor" }],
    [42, "oom-kill", { kind: "killed", pid: 4242, comm: "iptables-restor" }],
    [43, "avc-denial", { permission: "module_request", comm: "iptables", scontext: "system_u:system_r:iptables_t:s0", tcontext: "system_u:system_r:kernel_t:s0", tclass: "system" }],
    [44, "ct-table-full", { module: "nf_conntrack", doubledPrefix: true, trailingPeriod: false }],
  ] as const)("line %i is %s", (line, cls, fields) => {
    expect(at(line)?.class).toBe(cls);
    expect(at(line)?.fields).toEqual(fields);
  });

  it("attributes printk / __ratelimit / net_ratelimit / warn_alloc summaries", () => {
    expect(warnings).toEqual([]);
    // Each summary goes to the matching message printed just before it (the burst it cut short).
    expect(at(5)?.suppressed).toBe(12);
    expect(at(9)?.suppressed).toBe(33);
    expect(at(28)?.suppressed).toBe(4);
    expect(at(34)?.suppressed).toBe(3);
    expect(v.classes["ct-table-full"]).toMatchObject({ count: 5, suppressed: 12, total: 17 });
    expect(v.classes["neigh-overflow"]?.total).toBe(3);
    expect(v.classes["alloc-failure"]?.suppressed).toBe(3);
    expect(v.startsAtBoot).toBe(true);
  });
});

describe("kernel-log: journal, logread, pastes (derived)", () => {
  it("journalctl -k short: boot markers, Dec→Jan rollover, non-kernel programs", () => {
    const { value: v } = run(fixture("derived-journal-k.txt"));
    expect(v.formats).toEqual(["journal-short"]);
    expect(v.boots.map((b) => [b.kind, b.provenance.line])).toEqual([
      ["journal-begin", 1],
      ["journal-reboot", 13],
      ["journal-boot", 15],
    ]);
    expect(v.boots[2]?.id).toBe("3f2b8c1d9e7a4b6f8c0d1e2f3a4b5c6d");
    const dec = v.messages.find((m) => m.provenance.line === 19);
    expect(dec?.time).toBe("2025-12-31T23:59:59");
    expect(v.messages.find((m) => m.provenance.line === 16)?.time).toBe("2026-11-22T06:42:24");
    expect(ofClass(v, "sysctl-write-failed").map((m) => m.fields)).toEqual([
      { value: "262144", key: "net/netfilter/nf_conntrack_max", reason: "No such file or directory" },
      { key: "/proc/sys/net/bridge/bridge-nf-call-iptables", reason: "No such file or directory" },
    ]);
    expect(ofClass(v, "unit-failed").map((m) => m.fields.unit)).toEqual(["iptables.service", "iptables.service"]);
    expect(ofClass(v, "ipt-restore-failed")[0]?.fields.lineNo).toBe(12);
    expect(ofClass(v, "modprobe-install-error")[0]?.fields).toEqual({ command: "/bin/false", module: "nf_conntrack", retcode: 1 });
    expect(ofClass(v, "modprobe-not-found")[0]?.pid).toBe(250);
    // systemd's iptables.service line is kept; cron is not
    expect(ofClass(v, "other").map((m) => m.provenance.line)).toEqual([6]);
    expect(v.otherDropped).toBe(1);
    expect(v.messages.find((m) => m.provenance.line === 16)?.suppressed).toBe(25);
  });

  it("short-iso, short-precise and OpenWrt logread", () => {
    const { value: v } = run(fixture("derived-journal-variants.txt"));
    expect(v.formats).toEqual(["journal-short-iso", "syslog-precise", "logread"]);
    expect(v.messages.map((m) => m.time)).toEqual(["2026-11-22T06:42:24+00:00", "2026-11-22T06:42:24.123456", "2026-11-22T06:42:24", "2026-11-22T06:42:25"]);
    expect(v.messages[2]).toMatchObject({ uptime: 123.4, facility: "kern", level: 4, program: "kernel", class: "ct-table-full" });
    expect(v.messages[3]).toMatchObject({ program: "ipset", pid: 812, level: 3, class: "ipset-hash-full" });
  });

  it("ticket paste: quote marks, fences, a wrapped message, a bare banner", () => {
    const { value: v } = run(fixture("derived-ticket-paste.txt"), new Date("2012-08-14T00:00:00Z"));
    const full = ofClass(v, "ct-table-full");
    expect(full).toHaveLength(2);
    expect(full[0]?.text).toBe("nf_conntrack: table full, dropping packet.");
    expect(full[0]?.provenance).toEqual({ path: "dmesg", line: 4, lastLine: 5 });
    expect(full[0]?.fields.trailingPeriod).toBe(true);
    const banner = ofClass(v, "ct-banner")[0];
    expect(banner?.format).toBe("bare");
    expect(banner?.text).toBe("nf_conntrack version 0.5.0 (16384 buckets, 65536 max)");
    expect(v.unparsedLines).toBe(3);
  });

  it("joins a syslog wrap: 'table full, dropping' + 'packet'", () => {
    const { value: v } = run("Nov 22 06:42:24 lab-host kernel: [ 1706.768684] nf_conntrack: table full, dropping\npacket\n[ 1707.0] x\n");
    expect(v.messages[0]?.text).toBe("nf_conntrack: table full, dropping packet");
    expect(v.messages[0]?.provenance.lastLine).toBe(2);
  });
});

describe("kernel-log: rate-limit attribution", () => {
  it("falls back to the nearest matching message before the summary", () => {
    const text = ["[  1.0] nf_conntrack: expectation table full", "[  2.0] eth0: link up", "[  3.0] net_ratelimit: 9 callbacks suppressed", "[  4.0] eth0: link down"].join("\n");
    const { value: v } = run(text);
    expect(v.classes["ct-expect-full"]).toMatchObject({ count: 1, suppressed: 9, total: 10 });
    expect(ofClass(v, "ct-expect-full")[0]?.suppressed).toBe(9);
  });

  it("prefers a closer message before over a later one after", () => {
    const text = ["[  1.0] neighbour: arp_cache: neighbor table overflow!", "[  1.1] net_ratelimit: 5 callbacks suppressed", "[  1.2] a", "[  1.3] b", "[  1.4] nf_conntrack: nf_conntrack: table full, dropping packet"].join("\n");
    const { value: v } = run(text);
    expect(v.classes["neigh-overflow"]?.suppressed).toBe(5);
    expect(v.classes["ct-table-full"]?.suppressed).toBe(0);
  });

  it("counts summaries with nothing to attribute", () => {
    const { value: v } = run("[  3.0] net_ratelimit: 9 callbacks suppressed\n");
    expect(v.unattributedSuppressed).toBe(9);
  });
});

describe("kernel-log: robustness", () => {
  it("empty input", () => {
    const { value: v, warnings } = run("");
    expect(v).toMatchObject({ formats: [], lineCount: 0, messageCount: 0, messages: [], startsAtBoot: false, logPacketShare: 0 });
    expect(warnings).toEqual([]);
  });

  it("a truncated last line is read as far as it goes and a cut stamp is not a continuation", () => {
    const full = "[  10.000000] nf_conntrack: nf_conntrack: table full, dropping packet\n";
    const a = run(`${full}[  11.000000] nf_conntrack: nf_conntrack: table fu`).value;
    expect(a.messageCount).toBe(2);
    expect(a.classes["ct-table-full"]?.count).toBe(1);
    expect(a.lastUptime).toBe(11);
    const b = run(`${full}[  11.0000`);
    expect(b.value.messages[0]?.text).toBe("nf_conntrack: nf_conntrack: table full, dropping packet");
    expect(b.value.unparsedLines).toBe(1);
    expect(b.warnings.some((w) => w.line === 2 && w.message.includes("cut line"))).toBe(true);
  });

  it("CRLF line ends", () => {
    const text = fixture("kern-rsyslog-traditional.txt").replace(/\n/g, "\r\n");
    const { value: v } = run(text);
    expect(v.classes["ct-table-full"]?.total).toBe(498);
    expect(v.messages.every((m) => !m.raw.includes("\r") && !m.text.includes("\r"))).toBe(true);
    // push() may also get the \r itself
    const p = create({ path: "x" });
    p.push("[  1.0] nf_conntrack: expectation table full\r", 1);
    expect(p.end().value.messages[0]?.text).toBe("nf_conntrack: expectation table full");
  });

  it("binary garbage in the middle is skipped with a warning naming the line", () => {
    const text = ["[  1.0] nf_conntrack: nf_conntrack: table full, dropping packet", "\u0000\u0001\u0002\ufffd\u0007garbage", "[  2.0] nf_conntrack: nf_conntrack: table full, dropping packet"].join("\n");
    const { value: v, warnings } = run(text);
    expect(v.binaryLines).toBe(1);
    expect(v.classes["ct-table-full"]?.count).toBe(2);
    expect(warnings).toEqual([expect.objectContaining({ line: 2, message: expect.stringContaining("binary") })]);
  });

  it("a 5 MB single line does not hang and is cut", () => {
    const long = `[  1.0] nf_conntrack: nf_conntrack: table full, dropping packet ${"A".repeat(5 * 1024 * 1024)}`;
    const started = Date.now();
    const { value: v, warnings } = run(`${long}\n[  2.0] IN=${"x ".repeat(2_000_000)}\n[  3.0] ${"(".repeat(3_000_000)}`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(v.classes["ct-table-full"]?.count).toBe(1);
    expect(v.messages[0]?.raw.length).toBe(2048);
    expect(warnings.filter((w) => w.message.includes("characters long")).map((w) => w.line)).toEqual([1, 2, 3]);
  });

  it("memory bound: 2,000 kept per class, other lines only counted", () => {
    const p = create({ path: "var/log/kern.log", collectedAt: COLLECTED });
    let n = 0;
    for (let i = 0; i < 6000; i++) p.push(`Nov 22 06:42:24 lab-host kernel: [${1000 + i}.000000] nf_conntrack: nf_conntrack: table full, dropping packet`, ++n);
    for (let i = 0; i < 20000; i++) p.push(`Nov 22 06:42:25 lab-host kernel: [${7000 + i}.000000] eth0: something ${i}`, ++n);
    p.push("Nov 22 06:42:26 lab-host iptables-restore[1]: something odd", ++n);
    const { value: v } = p.end();
    // One text over and over: nothing new past the cap.
    expect(v.classes["ct-table-full"]).toMatchObject({ count: 6000, kept: 2000 });
    expect(v.classes["ct-table-full"]?.last.provenance.line).toBe(6000);
    expect(v.overCap).toBe(4000);
    expect(v.otherDropped).toBe(20000);
    expect(v.messages).toHaveLength(2001);
    expect(v.messages[2000]?.program).toBe("iptables-restore");
  });

  // Lines from kern-rsyslog-traditional.txt (a real rsyslog kern.log), repeated past the cap.
  const MASQUERADE_IN_PREROUTING = "x_tables: ip_tables: MASQUERADE target: used from hooks PREROUTING, but only usable from POSTROUTING";
  const KLOG_IN = "KLOG-IN: IN=klog-v0 OUT= MAC=52:25:88:de:1c:96:66:68:48:c1:54:c7:08:00 SRC=10.213.7.2 DST=10.213.7.1 LEN=29 TOS=0x00 PREC=0x00 TTL=64 ID=10610 DF PROTO=UDP SPT=54533 DPT=9999 LEN=9 ";
  const kernelLine = (uptime: number, text: string): string => `Nov 22 07:15:44 lab-host kernel: [${uptime.toFixed(6).padStart(12)}] ${text}`;

  it("past the cap, a text not kept yet is still kept (what a message names is not lost)", () => {
    const p = create({ path: "var/log/kern.log", collectedAt: COLLECTED });
    let n = 0;
    for (let i = 0; i < 3000; i++) p.push(kernelLine(276 + i / 1000, MASQUERADE_IN_PREROUTING), ++n);
    p.push(kernelLine(280, MASQUERADE_IN_PREROUTING.replace("PREROUTING", "INPUT")), ++n);
    p.push(kernelLine(280.5, MASQUERADE_IN_PREROUTING), ++n);
    const { value: v } = p.end();
    const cls = v.messages[0]!.class;
    expect(v.classes[cls]).toMatchObject({ count: 3002, kept: 2001 });
    expect(v.overCap).toBe(1001);
    const last = v.messages.at(-1)!;
    expect(last.text).toContain("used from hooks INPUT");
    expect(last.provenance.line).toBe(3001);
  });

  it("past the cap, a LOG line is kept when its prefix is new, up to 200 such lines", () => {
    const p = create({ path: "var/log/kern.log", collectedAt: COLLECTED });
    let n = 0;
    for (let i = 0; i < 2500; i++) p.push(kernelLine(275 + i / 1000, KLOG_IN.replace("ID=10610", `ID=${10610 + i}`)), ++n);
    // Every packet differs, but the prefix is the same: not kept.
    expect(p.end().value.classes["log-packet"]).toMatchObject({ count: 2500, kept: 2000 });

    const q = create({ path: "var/log/kern.log", collectedAt: COLLECTED });
    n = 0;
    for (let i = 0; i < 2000; i++) q.push(kernelLine(275 + i / 1000, KLOG_IN), ++n);
    for (let i = 0; i < 300; i++) q.push(kernelLine(300 + i, KLOG_IN.replace("KLOG-IN:", `DROP-${i}:`)), ++n);
    q.push(kernelLine(700, KLOG_IN.replace("KLOG-IN:", "DROP-0:")), ++n);
    const { value: w } = q.end();
    expect(w.classes["log-packet"]).toMatchObject({ count: 2301, kept: 2200 });
    const kept = w.messages.filter((m) => m.class === "log-packet");
    expect(kept[2000]?.text.startsWith("DROP-0:")).toBe(true);
    expect(kept[2199]?.text.startsWith("DROP-199:")).toBe(true);
    expect(kept.at(-1)?.provenance.line).toBe(2200);
  });

  it("an uptime going back marks a new boot", () => {
    const { value: v } = run("[ 500.0] a\n[ 600.0] b\n[    0.000000] Linux version 6.1.0\n[ 1.0] c\n");
    expect(v.boots).toEqual([expect.objectContaining({ kind: "uptime-reset", provenance: { path: "dmesg", line: 3 } })]);
    expect(v.startsAtBoot).toBe(false);
  });

  it("a ring buffer that is all LOG lines shows share 1", () => {
    const line = (i: number) => `[ ${i}.000000] DROP IN=eth0 OUT= MAC=00 SRC=192.0.2.${i % 250} DST=192.0.2.1 LEN=60 PROTO=TCP SPT=4000 DPT=22 WINDOW=1 SYN`;
    const { value: v } = run(Array.from({ length: 50 }, (_, i) => line(i + 1)).join("\n"));
    expect(v.logPacketShare).toBe(1);
    expect(ofClass(v, "log-packet")[0]?.fields).toMatchObject({ prefix: "DROP", in: "eth0", proto: "TCP", dpt: 22 });
  });
});
