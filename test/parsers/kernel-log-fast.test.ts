/**
 * The kernel-log fast paths give what the general reader gives: readLineFast against parseLine
 * (prefix parts), the whole-text shapes against the pattern table (class and summary count), and
 * the parser's bookkeeping (binary lines, last occurrences copied out of old lines) on inputs that
 * take the fast path.
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { create } from "../../src/parsers/kernel-log.js";
import {
  CT_FULL_INDEX,
  RATELIMIT_INDEX,
  SHAPE_CT_FULL,
  SHAPE_NONE,
  SHAPE_RATELIMIT,
  classifyIndex,
  classifyMessage,
  prepareText,
  shapeAt,
} from "../../src/parsers/kernel-log/classify.js";
import { type FastLine, type ParsedLine, parseLine, readLineFast, syslogDatePrefixes } from "../../src/parsers/kernel-log/line-formats.js";

const COLLECTED = new Date("2026-11-22T08:00:00Z");
const fixtureDir = new URL("../fixtures/kernel-log/", import.meta.url);
const fixtureLines = readdirSync(fixtureDir)
  .filter((f) => f.endsWith(".txt"))
  .flatMap((f) => readFileSync(new URL(f, fixtureDir), "utf8").split("\n")); // input, not a test: every fixture line, checked below

function fresh(): FastLine {
  return {
    format: "bare",
    textStart: -1,
    uptime: undefined,
    level: undefined,
    timePre: "",
    timeA: 0,
    timeB: 0,
    hostA: 0,
    hostB: 0,
    progA: 0,
    progB: 0,
    progKernel: false,
    pid: undefined,
    yearUnknown: false,
    shape: SHAPE_NONE,
  };
}

/** readLineFast's result in parseLine's terms (undefined: the fast path declined the line). */
function fast(line: string, collectedAt: Date | undefined, journal: boolean): ParsedLine | undefined {
  const o = fresh();
  if (!readLineFast(line, collectedAt, journal, o, syslogDatePrefixes(collectedAt))) return undefined;
  const p: ParsedLine = { format: o.format, text: line.slice(o.textStart) };
  if (o.uptime !== undefined) p.uptime = o.uptime;
  if (o.timeB > 0) p.time = o.timePre + line.slice(o.timeA, o.timeB);
  if (o.hostB > 0) p.host = line.slice(o.hostA, o.hostB);
  if (o.progB > 0) p.program = line.slice(o.progA, o.progB);
  if (o.pid !== undefined) p.pid = o.pid;
  if (o.level !== undefined) p.level = o.level;
  if (o.yearUnknown) p.yearUnknown = true;
  expect(o.progKernel).toBe(p.program === "kernel");
  return p;
}

/** parseLine's result without undefined members. */
function slow(line: string, collectedAt: Date | undefined, journal: boolean): ParsedLine | undefined {
  const p = parseLine(line, collectedAt, journal);
  if (!p) return undefined;
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as unknown as ParsedLine;
}

// Prefix shapes around every boundary the fast path decides on.
const edgeLines = [
  "2026-11-22T07:15:44.439354+00:00 lab-host kernel: [  276.245095] x_tables: ip_tables: MASQUERADE target: used from hooks PREROUTING",
  "2026-11-22T07:15:44Z h kernel: [1.5] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet",
  "2026-11-22T07:15:44.123456789-05:30 h kernel: [ 1.0]  two spaces after the uptime",
  "2026-11-22T07:15:44.1234567890+00:00 h kernel: [ 1.0] ten fraction digits",
  "2026-11-22T07:15:44+0000 h kernel: [ 1.0] short-iso offset",
  "2026-11-22T07:15:35,285183+00:00 net_ratelimit: 6 callbacks suppressed",
  "2026-11-22T07:15:44Z kernel: kernel: [ 2.0] host named kernel:",
  "2026-11-22T07:15:44Z h kernel:[ 2.0] no space after the colon",
  "2026-11-22T07:15:44Z h kernel:  [ 2.0] two spaces after the colon",
  "2026-11-22T07:15:44Z h kernel: <4>[ 2.0] level then uptime",
  "2026-11-22T07:15:44Z h kernel: <1234>[ 2.0] four-digit level",
  "2026-11-22T07:15:44Z h kernel: [ 2.0 not an uptime",
  "2026-11-22T07:15:44Z h kernel: [12345678901.0] eleven integer digits",
  "2026-11-22T07:15:44Z h kernel: [1234567890.123456789] nineteen digits",
  "2026-11-22T07:15:44Z h kernel: [123456.123456789] fifteen digits",
  "2026-11-22T07:15:44Z h kernel: [0.000000] zero",
  "2026-11-22T07:15:44Z h kernel[5]: [ 2.0] kernel with a pid",
  "2026-11-22T07:15:44Z h iptables-restore[1234567890]: line 3: RULE_APPEND failed (No such file or directory): rule in chain INPUT",
  "2026-11-22T07:15:44Z h ipset[12345678901]: eleven-digit pid",
  "2026-11-22T07:15:44Z h prog]x: bracket",
  "2026-11-22T07:15:44Z h prog[12]x: text after the pid",
  "2026-11-22T07:15:44Z h prog",
  "2026-11-22T07:15:44Z h ",
  "2026-11-22T07:15:44Z h",
  `2026-11-22T07:15:44Z h ${"p".repeat(128)}: 128-character program`,
  `2026-11-22T07:15:44Z h ${"p".repeat(129)}: 129-character program`,
  "2026-11-22T07:15:44Z h\u00e9 kernel: [ 1.0] non-ASCII host",
  "2026-11-22T07:15:44Z h pr\u00f6g: non-ASCII program",
  "2026-11-22T07:15:44Z h\tx kernel: [ 1.0] tab in the host",
  "2026-11-22T07:15:44Z  h kernel: [ 1.0] two spaces before the host",
  "Nov 22 07:15:44 lab-host kernel: [  276.245095] x_tables: ip_tables: MASQUERADE target",
  "Nov  2 07:15:44 h kernel: [ 1.0] nf_conntrack: table full, dropping packet.",
  "Nov 2 07:15:44 h kernel: [ 1.0] one space, one digit",
  "Nov   2 07:15:44 h kernel: three spaces",
  "Nov 222 07:15:44 h kernel: three-digit day",
  "Jan 01 00:00:00.123456789 h kernel: [ 1.0] precise",
  "Jan 01 00:00:00.1234567890 h kernel: ten fraction digits",
  "Dec 31 23:59:59 h systemd[1]: Failed to start iptables.service - IPv4 firewall with iptables.",
  "Foo 22 07:15:44 h kernel: not a month",
  "Sun Nov 22 06:42:24 2026 kern.warn kernel: [  123.400000] logread",
  "[  272.213699] net_ratelimit: 470 callbacks suppressed",
  "[1.0]no space",
  "<4>[  267.087928] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet",
  "<4>no uptime",
  "<12345>[ 1.0] long level",
  "[Sun Nov 22 07:15:35 2026] net_ratelimit: 6 callbacks suppressed",
  "[ 12345678901.5] eleven integer digits",
];

describe("kernel-log fast line reader", () => {
  it.each([
    [COLLECTED, false],
    [COLLECTED, true],
    [undefined, false],
  ] as const)("reads every line it accepts like parseLine (collected %s, journal %s)", (collectedAt, journal) => {
    let accepted = 0;
    for (const line of [...fixtureLines, ...edgeLines]) {
      const f = fast(line, collectedAt, journal);
      if (f === undefined) continue;
      accepted++;
      expect(f, line).toEqual(slow(line, collectedAt, journal));
    }
    // Most real lines take the fast path.
    expect(accepted).toBeGreaterThan(fixtureLines.length * 0.6);
  });

  it("accepts the rsyslog, syslog and dmesg shapes of the real captures", () => {
    expect(fast("2026-11-22T07:15:32.011660+00:00 lab-host kernel: [  258.784200] nf_conntrack: nf_conntrack: table full in netns 4026532246, dropping packet", COLLECTED, false)).toEqual({
      format: "rfc3339",
      text: "nf_conntrack: nf_conntrack: table full in netns 4026532246, dropping packet",
      uptime: 258.7842,
      time: "2026-11-22T07:15:32.011660+00:00",
      host: "lab-host",
      program: "kernel",
    });
    expect(fast("Aug 13 14:46:52 ams-mid006.int.s-cloud.net kernel: [8623919.136122] nf_conntrack: table full, dropping packet.", new Date("2012-08-14T10:00:00Z"), false)).toMatchObject({
      format: "syslog",
      time: "2012-08-13T14:46:52",
      uptime: 8623919.136122,
      host: "ams-mid006.int.s-cloud.net",
    });
    expect(fast("<4>[  267.087928] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet", COLLECTED, false)).toMatchObject({ format: "dmesg", level: 4, uptime: 267.087928 });
  });

  it("leaves the other shapes to parseLine", () => {
    for (const line of [
      "2026-11-22T07:15:44+0000 h kernel: short-iso offset",
      "2026-11-22T07:15:35,285183+00:00 net_ratelimit: 6 callbacks suppressed",
      "[Sun Nov 22 07:15:35 2026] net_ratelimit: 6 callbacks suppressed",
      "Sun Nov 22 06:42:24 2026 kern.warn kernel: [  123.400000] logread",
      "2026-11-22T07:15:44Z h\u00e9 kernel: [ 1.0] non-ASCII host",
      "2026-11-22T07:15:44Z h pr\u00f6g: non-ASCII program",
      "2026-11-22T07:15:44Z h pr\u0001g: control character in the program",
    ]) {
      expect(fast(line, COLLECTED, false), line).toBeUndefined();
    }
  });
});

describe("kernel-log whole-text shapes", () => {
  const shapeOf = (text: string): number => shapeAt(`[ 1.0] ${text}`, 7);
  const ctFull = [
    "nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet",
    "nf_conntrack: table full, dropping packet.",
    "ip_conntrack: table full, dropping packet.",
    "ip_conntrack: nf_conntrack: table full, dropping packet",
    "table full, dropping packet",
    "table full in netns 1, dropping packet.",
    `nf_conntrack: nf_conntrack: table full in netns ${"9".repeat(20)}, dropping packet`,
  ];
  const ratelimit = ["net_ratelimit: 470 callbacks suppressed", "net_ratelimit: 0 callbacks suppressed", `net_ratelimit: ${"9".repeat(15)} callbacks suppressed`];
  const neither = [
    "nf_conntrack: nf_conntrack: table full, dropping packet ",
    "nf_conntrack: nf_conntrack: table full, dropping",
    "nf_conntrack: nf_conntrack: nf_conntrack: table full, dropping packet",
    `nf_conntrack: nf_conntrack: table full in netns ${"9".repeat(21)}, dropping packet`,
    "nf_conntrack: table full, dropping packet IN=eth0 OUT= SRC=1.2.3.4",
    "net_ratelimit: 5 callbacks suppressed extra",
    "net_ratelimit:  5 callbacks suppressed",
    `net_ratelimit: ${"9".repeat(16)} callbacks suppressed`,
    "warn_alloc: 3 callbacks suppressed",
    "nf_conntrack: expectation table full",
    "table full\u0001, dropping packet",
  ];

  it("classifies a ct-table-full shape as the pattern table does", () => {
    for (const t of ctFull) {
      expect(shapeOf(t), t).toBe(SHAPE_CT_FULL);
      expect(prepareText(t)).toBe(t);
      expect(classifyIndex(t), t).toBe(CT_FULL_INDEX);
    }
  });

  it("classifies a net_ratelimit shape as the pattern table does, count included", () => {
    for (const t of ratelimit) {
      expect(shapeOf(t), t).toBe(SHAPE_RATELIMIT);
      expect(prepareText(t)).toBe(t);
      expect(classifyIndex(t), t).toBe(RATELIMIT_INDEX);
      const { cls, fields } = classifyMessage(t);
      expect(cls).toBe("ratelimit-summary");
      expect(fields).toEqual({ func: "net_ratelimit", suppressed: Number(t.split(" ")[1]) }); // asserts the count read from the text
    }
  });

  it("sends near misses to the pattern table", () => {
    for (const t of neither) expect(shapeOf(t), t).toBe(SHAPE_NONE);
  });

  it("a shaped text on a fast line gives the same message as the same text read by parseLine", () => {
    // A quoted line is read by the general path (unquote + parseLine); the unquoted one by the fast path.
    for (const t of [...ctFull, ...ratelimit, ...neither]) {
      const line = `2026-11-22T07:15:44.439354+00:00 lab-host kernel: [  276.245095] ${t}`;
      const a = create({ path: "k", collectedAt: COLLECTED });
      a.push(line, 1);
      const b = create({ path: "k", collectedAt: COLLECTED });
      b.push(`> ${line}`, 1);
      const ma = a.end().value;
      const mb = b.end().value;
      expect(ma.binaryLines).toBe(mb.binaryLines);
      expect(ma.classes).toEqual(mb.classes);
      expect(ma.messages.map(({ raw: _raw, ...m }) => m), t).toEqual(mb.messages.map(({ raw: _raw, ...m }) => m));
    }
  });
});

describe("kernel-log fast path bookkeeping", () => {
  it("control characters anywhere in a fast-path line make it a binary line", () => {
    const p = create({ path: "k", collectedAt: COLLECTED });
    const lines = [
      "2026-11-22T07:15:44Z h kernel: [ 1.0] nf_conntrack: nf_conntrack: table full, dropping packet",
      "2026-11-22T07:15:44Z h kernel: [ 1.1] nf_conntrack: nf_conntrack: table full, dropping packet\u0001",
      "2026-11-22T07:15:44Z h\u0001 kernel: [ 1.2] nf_conntrack: nf_conntrack: table full, dropping packet",
      "2026-11-22T07:15:44Z h kern\u007fel: [ 1.3] nf_conntrack: nf_conntrack: table full, dropping packet",
      "2026-11-22T07:15:44Z h kernel: [ 1.4] eth0: link up",
      "2026-11-22T07:15:44Z h kernel: [ 1.5] eth0: link up\ufffd",
      "[ 1.6] DROP IN=eth0 OUT= SRC=1.2.3.4 \u001f",
    ];
    lines.forEach((l, i) => p.push(l, i + 1));
    const { value: v, warnings } = p.end();
    expect(v.binaryLines).toBe(5);
    expect(v.messageCount).toBe(2);
    expect(warnings.filter((w) => w.message.includes("binary")).map((w) => w.line)).toEqual([2, 3, 4, 6, 7]);
  });

  it("keeps the right last occurrences and times across many lines (copied out of old lines)", () => {
    const p = create({ path: "k", collectedAt: COLLECTED });
    let n = 0;
    const stamp = (i: number): string => `2026-11-22T07:${String(Math.floor(i / 6000) % 60).padStart(2, "0")}:${String(Math.floor(i / 100) % 60).padStart(2, "0")}.${String(i).padStart(6, "0")}+00:00`;
    for (let i = 0; i < 20000; i++) {
      const text = i === 1238 ? "nf_conntrack: expectation table full" : i % 7 === 0 ? `net_ratelimit: ${i} callbacks suppressed` : "nf_conntrack: table full, dropping packet.";
      p.push(`${stamp(i)} lab-host kernel: [ ${1000 + i}.500000] ${text}`, ++n);
    }
    p.push("Nov 22 07:59:59 lab-host iptables[12]: iptables: No chain/target/match by that name.", ++n);
    const { value: v } = p.end();
    expect(v.classes["ct-expect-full"]?.last).toEqual({ provenance: { path: "k", line: 1239 }, uptime: 2238.5, time: stamp(1238) });
    expect(v.classes["ct-expect-full"]?.first).toEqual(v.classes["ct-expect-full"]?.last);
    // 19999 is a multiple of 7: the last line is a summary.
    expect(v.classes["ct-table-full"]?.last).toEqual({ provenance: { path: "k", line: 19999 }, uptime: 20998.5, time: stamp(19998) });
    expect(v.classes["ratelimit-summary"]?.last.provenance.line).toBe(20000);
    expect(v.classes["ipt-no-such"]?.last).toEqual({ provenance: { path: "k", line: 20001 }, time: "2026-11-22T07:59:59" });
    expect(v.firstTime).toBe(stamp(0));
    expect(v.lastTime).toBe("2026-11-22T07:59:59");
    expect(v.formats).toEqual(["rfc3339", "syslog"]);
    expect(v.formatCounts).toEqual({ rfc3339: 20000, syslog: 1 });
    // Every net_ratelimit count goes to the message before it: the expectation-table line for the one after it.
    const summaries = Array.from({ length: 20000 }, (_, i) => i).filter((i) => i % 7 === 0);
    expect(v.classes["ct-table-full"]?.suppressed).toBe(summaries.filter((i) => i > 0).reduce((a, b) => a + b, 0) - 1239);
    expect(v.classes["ct-expect-full"]?.suppressed).toBe(1239);
    expect(v.unattributedSuppressed).toBe(0);
  });
});
