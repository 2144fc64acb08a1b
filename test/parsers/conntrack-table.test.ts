import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/parsers/types.js";
import { create, createTableParser, schema } from "../../src/parsers/conntrack-table.js";
import { BoundedCounter } from "../../src/parsers/conntrack/bounded-counter.js";

const dir = new URL("../fixtures/conntrack/", import.meta.url);
const fixture = (name: string): string => readFileSync(new URL(name, dir), "utf8");
const parse = (text: string, path = "proc/net/nf_conntrack", factory = create) => {
  const result = parseText(factory, text, { path });
  schema.parse(result.value);
  return result;
};
const counts = (top: { items: { key: string; count: number }[] }) => Object.fromEntries(top.items.map((i) => [i.key, i.count]));

describe("conntrack table aggregation", () => {
  it("aggregates the real sosreport /proc/net/nf_conntrack (kernel 6.1, table full at 128)", () => {
    const { value, warnings } = parse(fixture("nf_conntrack.sos-6.1.txt"), "proc/242/net/nf_conntrack");
    expect(warnings).toEqual([]);
    expect(value.entries).toBe(128);
    expect(value.layout).toBe("l3-prefix");
    expect(value.firstLine).toBe(1);
    expect(value.lastLine).toBe(128);
    expect(counts(value.byTcpState)).toEqual({ ESTABLISHED: 128 });
    expect(counts(value.byDestinationPort)).toEqual({ "tcp/8080": 128 });
    expect(counts(value.topSources)).toEqual({ "127.0.0.1": 128 });
    expect(counts(value.byFlag)).toEqual({ ASSURED: 128 });
    expect(value.use.withField).toBe(128);
    // Timeouts of 86344 s: a custom established timeout of 1 day, not the 432000 s default.
    expect(value.timeouts).toMatchObject({ under1d: 128, nearTcpEstablishedDefault: 0, max: 86344 });
  });

  it("aggregates the real 6.18 /proc file: l3/l4 mix, unreplied UDP, icmp in zone 5, marks, accounting", () => {
    const { value, warnings } = parse(fixture("nf_conntrack.6.18.txt"));
    expect(warnings).toEqual([]);
    expect(value.entries).toBe(25);
    expect(counts(value.byL3)).toEqual({ ipv4: 22, ipv6: 3 });
    expect(counts(value.byL4)).toEqual({ tcp: 16, udp: 8, icmp: 1 });
    expect(counts(value.byTcpState)).toEqual({ ESTABLISHED: 15, CLOSE_WAIT: 1 });
    expect(counts(value.byFlag)).toEqual({ ASSURED: 16, UNREPLIED: 4 });
    expect(counts(value.byDestinationPort)).toEqual({ "tcp/8080": 16, "udp/5353": 5, "udp/9999": 3 });
    expect(counts(value.byZone)).toEqual({ "0": 24, "5": 1 });
    expect(counts(value.byMark)).toEqual({ "0": 20, "7": 5 });
    expect(counts(value.topSources)["fd88:0000:0000:0000:0000:0000:0000:0002"]).toBe(3);
    expect(value.timeouts).toMatchObject({ withTimeout: 25, under60s: 10, atLeast1d: 15, nearTcpEstablishedDefault: 15 });
    expect(value.accounting).toEqual({ entries: 1, packets: 2, bytes: 64 });
    expect(value.samples.ESTABLISHED).toHaveLength(3);
    expect(value.samples.icmp?.[0]?.provenance.line).toBe(22);
    expect(value.samples.udp?.[0]?.text).toMatch(/^ipv4 +2 udp/);
  });

  it("reads `conntrack -L` with the stderr summary and checks the count against it", () => {
    const { value, warnings } = parse(fixture("conntrack-L.6.18.txt"), "conntrack_-L");
    expect(warnings).toEqual([]);
    expect(value.layout).toBe("plain");
    expect(value.entries).toBe(25);
    expect(value.toolMessages[0]?.flowEntriesShown).toBe(25);
    expect(value.toolMessages[0]?.provenance.line).toBe(26);
    expect(counts(value.byL3)).toEqual({ "(none)": 25 });
    expect(counts(value.byZone)).toEqual({ "0": 24, "5": 1 });
    expect(counts(value.topSources)["fd88::2"]).toBe(3);
  });

  it("reads `conntrack -L -o extended`", () => {
    const { value, warnings } = parse(fixture("conntrack-L-extended.6.18.txt"), "conntrack_-L_-o_extended");
    expect(warnings).toEqual([]);
    expect(value.layout).toBe("l3-prefix");
    expect(value.entries).toBe(25);
    expect(counts(value.byL3)).toEqual({ ipv4: 22, ipv6: 3 });
  });

  it("reads the table-full capture with accounting, delta-time and many CLOSE_WAIT", () => {
    const { value } = parse(fixture("conntrack-L.6.18-table-full.txt"), "conntrack_-L");
    expect(value.entries).toBe(214);
    expect(counts(value.byTcpState)).toEqual({ CLOSE_WAIT: 151, ESTABLISHED: 15 });
    expect(counts(value.byFlag).UNREPLIED).toBe(43);
    expect(value.accounting.entries).toBeGreaterThan(150);
    expect(value.samples.CLOSE_WAIT).toHaveLength(3);
  });

  it("warns when the summary disagrees with what was read", () => {
    const lines = fixture("conntrack-L.6.18.txt").split("\n"); // the text split into lines; not a test call
    lines.splice(3, 2);
    const { value, warnings } = parse(lines.join("\n"), "conntrack_-L");
    expect(value.entries).toBe(23);
    expect(warnings).toEqual([expect.objectContaining({ line: 24, message: expect.stringMatching(/25 entries shown but 23/) })]);
  });

  it("reads other eras and variants: -E events, sctp state, offload flags, secctx/labels, no-timeout DESTROY", () => {
    const text = [
      "    [NEW] tcp      6 120 SYN_SENT src=10.0.0.1 dst=10.0.0.2 sport=40000 dport=443 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 sport=443 dport=40000",
      " [DESTROY] udp      17 src=10.0.0.1 dst=10.0.0.3 sport=5000 dport=53 src=10.0.0.3 dst=10.0.0.1 sport=53 dport=5000",
      "ipv4     2 sctp     132 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.4 sport=1 dport=2 src=10.0.0.4 dst=10.0.0.1 sport=2 dport=1 [ASSURED] mark=0 secctx=system_u:object_r:unlabeled_t:s0 zone=3 use=1",
      "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.5 sport=3 dport=80 src=10.0.0.5 dst=10.0.0.1 sport=80 dport=3 [OFFLOAD] mark=0 labels=0x1 use=2",
      "tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=10.0.0.5 sport=4 dport=80 src=10.0.0.5 dst=10.0.0.1 sport=80 dport=4 [HW_OFFLOAD] mark=0 use=2",
      "unknown  47 599 src=10.0.0.1 dst=10.0.0.6 src=10.0.0.6 dst=10.0.0.1 mark=0 use=1",
    ].join("\n");
    const { value, warnings } = parse(text, "conntrack_-E");
    expect(warnings).toEqual([]);
    expect(value.entries).toBe(6);
    expect(value.layout).toBe("mixed");
    expect(counts(value.byEvent)).toEqual({ NEW: 1, DESTROY: 1 });
    expect(counts(value.byOtherState)).toEqual({ "sctp ESTABLISHED": 1 });
    expect(counts(value.byFlag)).toEqual({ UNREPLIED: 1, ASSURED: 1, OFFLOAD: 1, HW_OFFLOAD: 1 });
    expect(counts(value.byZone)).toEqual({ "0": 5, "3": 1 });
    expect(value.timeouts.withTimeout).toBe(5);
    expect(counts(value.byDestinationPort)).toEqual({ "tcp/80": 2, "tcp/443": 1, "udp/53": 1, "sctp/2": 1 });
  });

  it("returns zeros for empty input", () => {
    const { value, warnings } = parse("");
    expect(warnings).toEqual([]);
    expect(value).toMatchObject({ entries: 0, layout: "empty", firstLine: null, lastLine: null, unparsable: { count: 0 } });
  });

  it("counts a truncated last line as unparsable when the original tuple is cut", () => {
    const text = fixture("nf_conntrack.6.18.txt").replace(/ipv6 +10 tcp +6 431998 ESTABLISHED src=fd88(.*)\n$/, "ipv6     10 tcp      6 431998 ESTABLISHED src=fd88:0000:0");
    const { value, warnings } = parse(text);
    expect(value.entries).toBe(24);
    expect(value.lastLine).toBe(24);
    expect(value.unparsable).toEqual({ count: 1, firstLines: [25] });
    expect(warnings).toEqual([expect.objectContaining({ line: 25 })]);
  });

  it("keeps an entry whose reply tuple was cut (original tuple complete)", () => {
    const text = fixture("nf_conntrack.6.18.txt").trimEnd() .replace(/ src=fd88:0000:0000:0000:0000:0000:0000:0001 dst=fd88:0000:0000:0000:0000:0000:0000:0002 sport=8080 dport=57838 .*$/, " src=fd8");
    const { value } = parse(text);
    expect(value.entries).toBe(25);
    expect(value.use.withField).toBe(24);
  });

  it("reads CRLF input", () => {
    const { value, warnings } = parse(fixture("conntrack-L.6.18.txt").replace(/\n/g, "\r\n"), "conntrack_-L");
    expect(warnings).toEqual([]);
    expect(value.entries).toBe(25);
    expect(counts(value.use.byValue)).toEqual({ "1": 25 });
  });

  it("skips binary garbage with a warning naming the line", () => {
    const lines = fixture("nf_conntrack.6.18.txt").split("\n"); // the text split into lines; not a test call
    lines.splice(5, 0, "\u0000\u0000\ufffd\u0001 src=\u0007 dst=");
    const { value, warnings } = parse(lines.join("\n"));
    expect(value.entries).toBe(25);
    expect(value.unparsable).toEqual({ count: 1, firstLines: [6] });
    expect(warnings).toEqual([expect.objectContaining({ line: 6, message: expect.stringMatching(/binary/) })]);
  });

  it("survives a 5 MB single line", () => {
    const long = `ipv4     2 tcp      6 1 ESTABLISHED src=${"1".repeat(5 * 1024 * 1024)} dst=1.2.3.4`;
    const { value, warnings } = parse(`${long}\n${"y".repeat(5 * 1024 * 1024)}\n` + fixture("nf_conntrack.6.18.txt"));
    expect(value.entries).toBe(25);
    expect(value.unparsable.firstLines).toEqual([1, 2]);
    expect(warnings.every((w) => w.message.length < 300)).toBe(true);
  });

  it("lists at most 5 unparsable-line warnings plus a summary", () => {
    const { value, warnings } = parse(Array.from({ length: 12 }, (_, i) => `junk ${i}`).join("\n"));
    expect(value.unparsable.count).toBe(12);
    expect(value.unparsable.firstLines).toHaveLength(10);
    expect(warnings).toHaveLength(6);
    expect(warnings[5]?.message).toMatch(/12 unparsable lines/);
  });

  it("switches to an approximate top list past the distinct-key cap and still finds the heavy hitters", () => {
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const src = i % 3 === 0 ? "192.0.2.1" : i % 5 === 0 ? "192.0.2.2" : `10.1.${(i >> 8) & 255}.${i & 255}`;
      lines.push(`tcp      6 100 TIME_WAIT src=${src} dst=198.51.100.7 sport=${1024 + i} dport=443 src=198.51.100.7 dst=${src} sport=443 dport=${1024 + i} [ASSURED] mark=0 use=1`);
    }
    const factory = createTableParser({ exactKeyCap: 100, sketchSize: 50, topN: 3 });
    const { value, warnings } = parse(lines.join("\n"), "conntrack_-L", factory);
    expect(value.approximate).toBe(true);
    expect(value.topSources.approximate).toBe(true);
    expect(value.topSources.distinctKeys).toBe(100);
    expect(value.topSources.total).toBe(3000);
    const [first, second] = value.topSources.items;
    expect(first?.key).toBe("192.0.2.1");
    expect(second?.key).toBe("192.0.2.2");
    // Sketch bounds: estimate >= true count >= estimate - overcount.
    expect(first!.count).toBeGreaterThanOrEqual(1000);
    expect(first!.count - first!.overcount).toBeLessThanOrEqual(1000);
    expect(value.topDestinations.approximate).toBe(false);
    expect(warnings.some((w) => /approximate/.test(w.message))).toBe(true);
  });
});

describe("conntrack table keys counted as numbers", () => {
  it("prints IPv4 addresses and ports from their number keys, keeps other address text as written", () => {
    // Hand-written: non-canonical addresses no kernel prints, to show they are not merged with canonical ones.
    const lines = [
      "ipv4     2 tcp      6 100 ESTABLISHED src=10.0.0.1 dst=255.255.255.255 sport=1 dport=65535 src=255.255.255.255 dst=10.0.0.1 sport=65535 dport=1 [ASSURED] mark=4294967295 zone=0 use=1",
      "ipv4     2 tcp      6 100 ESTABLISHED src=010.0.0.1 dst=0.0.0.0 sport=1 dport=080 src=0.0.0.0 dst=010.0.0.1 sport=80 dport=1 [ASSURED] mark=0 zone=00 use=1",
      "ipv6     10 udp      17 20 src=fd88::2 dst=fd88::1 sport=5 dport=53 [UNREPLIED] src=fd88::1 dst=fd88::2 sport=53 dport=5 mark=0 zone=0 use=2",
    ].join("\n");
    const { value } = parse(lines);
    expect(counts(value.topSources)).toEqual({ "10.0.0.1": 1, "010.0.0.1": 1, "fd88::2": 1 });
    expect(counts(value.topDestinations)).toEqual({ "255.255.255.255": 1, "0.0.0.0": 1, "fd88::1": 1 });
    expect(counts(value.byDestinationPort)).toEqual({ "tcp/65535": 1, "tcp/080": 1, "udp/53": 1 });
    expect(counts(value.byMark)).toEqual({ "4294967295": 1, "0": 2 });
    expect(counts(value.byZone)).toEqual({ "0": 2, "00": 1 });
  });
});

describe("BoundedCounter", () => {
  it("is exact below the cap", () => {
    const c = new BoundedCounter(10, 4);
    for (const k of ["a", "b", "a", "c", "a", "b"]) c.add(k);
    expect(c.top(2)).toEqual({
      items: [{ key: "a", count: 3, overcount: 0 }, { key: "b", count: 2, overcount: 0 }],
      distinctKeys: 3, total: 6, approximate: false,
    });
  });

  it("keeps the heavy-hitter bounds after the switch", () => {
    const c = new BoundedCounter(5, 5);
    const truth = new Map<string, number>();
    let seed = 7;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const key = seed % 4 === 0 ? "hot" : `k${seed % 997}`;
      truth.set(key, (truth.get(key) ?? 0) + 1);
      c.add(key);
    }
    const top = c.top(5);
    expect(top.approximate).toBe(true);
    expect(top.items[0]?.key).toBe("hot");
    for (const item of top.items) {
      const real = truth.get(item.key) ?? 0;
      expect(item.count).toBeGreaterThanOrEqual(real);
      expect(item.count - item.overcount).toBeLessThanOrEqual(real);
    }
  });

  it("counts number keys (kept in a NumberTable while exact) exactly as their printed strings, before and after the switch", () => {
    for (const [cap, sketch] of [[100_000, 4096], [300, 64]] as const) {
      const byNumber = new BoundedCounter<string | number>(cap, sketch, (k) => String(k));
      const byString = new BoundedCounter<string | number>(cap, sketch, (k) => String(k));
      let seed = 11;
      for (let i = 0; i < 20_000; i++) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        // Int32 keys, negative ones (addresses over 127.255.255.255), keys past 2^32 (marks) and a few strings.
        const key = seed % 5 === 0 ? (seed % 50) - 25 : seed % 7 === 0 ? 2 ** 32 + (seed % 300) : seed % 11 === 0 ? `s${seed % 40}` : seed % 1500;
        byNumber.add(key);
        byString.add(typeof key === "number" ? String(key) : key);
      }
      expect(byNumber.top(30)).toEqual(byString.top(30));
      expect(byNumber.exportState()).toEqual(byString.exportState());
      expect(byNumber.approximate).toBe(cap === 300);
    }
  });
});

describe("entry header read by comparing with the line before", () => {
  it("reads every line of real dumps as the tokenising reader does, whatever line came before", async () => {
    const { emptyEntry, NameInterner, readEntryLine } = await import("../../src/parsers/conntrack/entry-line.js");
    // /proc with and without states, `conntrack -L` (no l3 prefix), `-o extended`, events, and the table-full dump.
    const files = ["nf_conntrack.6.18.txt", "nf_conntrack.sos-6.1.txt", "nf_conntrack.6.18-table-full.txt", "conntrack-L.6.18.txt", "conntrack-L-extended.6.18.txt", "conntrack-L.6.18-table-full.txt"];
    const lines = files.flatMap((f) => readFileSync(new URL(`../fixtures/conntrack/${f}`, import.meta.url), "utf8").split("\n")); // the input, line by line
    // Variants a prefix must not be mistaken for: a longer timeout, a state glued to src=, garbage after the timeout.
    const variants = lines.filter((l) => l.startsWith("ipv4")).flatMap((l) => [l.replace(/ (\d+) /, " 9$1 "), l.replace(/ ([A-Z_]+) src=/, " $1src="), l.replace(/ (\d+) /, " $1x "), l.replace(/ (\d+) /, " $1 FOO ")]);
    const all = [...lines, ...variants, ...lines.reverse()];
    const names = new NameInterner();
    const remembering = emptyEntry();
    let read = 0;
    for (const line of all) {
      const buf = Buffer.from(line);
      const fresh = emptyEntry();
      const expected = readEntryLine(buf, 0, buf.length, fresh, names);
      const got = readEntryLine(buf, 0, buf.length, remembering, names);
      expect(got, line).toBe(expected);
      if (!expected) continue;
      read++;
      const { prefixes: _a, nextPrefix: _e, flags: fa, flagIds: _b, ...want } = fresh;
      const { prefixes: _c, nextPrefix: _f, flags: fb, flagIds: _d, ...have } = remembering;
      expect(have, line).toEqual(want);
      expect(fb.slice(0, remembering.flagCount), line).toEqual(fa.slice(0, fresh.flagCount));
    }
    expect(read).toBeGreaterThan(100);
  });
});
