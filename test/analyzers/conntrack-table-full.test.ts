import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-table-full.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const tmp: string[] = [];

/** A bundle from the real 6.18 lab captures: table full in two child namespaces, init netns count 0. */
async function netnsBundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-ctf-"));
  tmp.push(dir);
  await mkdir(join(dir, "commands"), { recursive: true });
  await writeFile(join(dir, "manifest.json"), JSON.stringify({ collector: "nfdiag-collect", collector_version: "0.1.0", manifest_version: 1, kernel: "6.18.44-fc-v669", samples: [], commands: [], files: [] }));
  await writeFile(join(dir, "commands/uname_-a"), "Linux lab-host 6.18.44-fc-v669 #1 SMP x86_64 GNU/Linux\n");
  await writeFile(join(dir, "commands/sysctl_-a"), "net.netfilter.nf_conntrack_buckets = 262144\nnet.netfilter.nf_conntrack_count = 0\nnet.netfilter.nf_conntrack_max = 64\n");
  await copyFile("test/fixtures/kernel-log/dmesg-netns-table-full.txt", join(dir, "commands/dmesg"));
  await copyFile("test/fixtures/conntrack/conntrack-S.6.18-table-full.txt", join(dir, "commands/conntrack_-S"));
  return dir;
}

const B = {
  sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
  stateful: "samples/soundcloud-stateful/bundle.tar.gz",
  initns: "samples/table-full-tcp-initns/bundle.tar.gz",
  udp: "samples/table-full-udp-earlydrop/bundle.tar.gz",
  sc62: "samples/soundcloud-62/bundle.tar.gz",
  healthy: "samples/healthy/bundle.tar.gz",
  near: "samples/near-capacity/bundle.tar.gz",
  expect: "samples/expect-table-full/bundle.tar.gz",
  labNetns: "samples/table-full-netns/bundle.tar.gz",
  mixed: "samples/mixed-table-full-neighbour/bundle.tar.gz",
  timeouts: "samples/timeouts-long/bundle.tar.gz",
  k2618: "test/fixtures/bundles/ct-2.6.18-ip_conntrack-full",
  k310: "test/fixtures/bundles/ct-3.10-table-full",
  k419: "test/fixtures/bundles/ct-4.19-kube-table-full",
  k515: "test/fixtures/bundles/ct-5.15-hash-undersized",
};
const r: Record<string, DetectedFinding[]> = {};
let netns: DetectedFinding[];

beforeAll(async () => {
  const keys = Object.keys(B) as (keyof typeof B)[];
  const out = await Promise.all(keys.map((k) => run(B[k])));
  keys.forEach((k, i) => (r[k] = out[i]!));
  netns = await run(await netnsBundle());
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

const one = (k: string): DetectedFinding => {
  expect(r[k]).toHaveLength(1);
  return r[k]![0]!;
};

describe("conntrack-table-full on real bundles", () => {
  it("sosreport (6.1): critical, 90 lines + 80 suppressed = 170, drop=172 from hex rows, count 128 = max", () => {
    const f = one("sos");
    expect(f.severity).toBe("critical");
    expect(f.metrics).toMatchObject({ logLines: 90, logSuppressed: 80, logTotal: 170, drop: 172, count: 128, max: 128, fill: 1 });
    const first = f.evidence.find((e) => e.source === "dmesg" && e.line === 374);
    expect(first?.path).toMatch(/sos_commands\/kernel\/dmesg$/);
    expect(first?.text).toBe("[    8.815494] nf_conntrack: nf_conntrack: table full, dropping packet");
    expect(first?.highlight).toBe("nf_conntrack: nf_conntrack: table full, dropping packet");
    const sup = f.evidence.find((e) => e.highlight === "10 callbacks suppressed");
    expect(sup?.line).toBe(384);
    const row0 = f.evidence.find((e) => e.source === "proc-stat-nf_conntrack" && e.line === 2);
    expect(row0?.note).toMatch(/drop=118/);
    expect(f.evidence.find((e) => e.text === "net.netfilter.nf_conntrack_max = 128")?.line).toBe(788);
    expect(f.firstSeen).toBe("2026-11-22T06:40:04.815Z");
    expect(f.lastSeen).toBe("2026-11-22T06:40:47.431Z");
    expect(f.mechanism).toMatch(/≥ 4\.10\) only namespaces whose rules need conntrack/);
    expect(f.mechanism).toMatch(/Before 6\.17 the message does not say which namespace/);
    expect(f.confidence).toBeGreaterThanOrEqual(0.9);
  });

  it("sosreport: raise-max fix computed from RAM (2 GiB → 6.1 default 65536), slab object 256 B, modprobe.d hashsize edited in place", () => {
    const f = one("sos");
    const fix = f.fixes[0]!;
    expect(fix.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_max=65536", "sysctl -w net.netfilter.nf_conntrack_buckets=65536   # kernel ≥ 4.9: writable, initial namespace only"]);
    expect(f.metrics).toMatchObject({ recommendedMax: 65536, recommendedBuckets: 65536, kernelDefaultMax: 65536, entryBytes: 256, entryBytesSource: "slabinfo", recommendedTableBytes: 65536 * 256 + 65536 * 8 });
    expect(fix.persist.join("\n")).toContain("sed -i 's/hashsize=16384/hashsize=65536/' /etc/modprobe.d/nf_conntrack.conf");
    // The real sos holds etc/sysctl.d/90-conntrack.conf (max = 128): edited in place, not overridden.
    expect(fix.persist[0]).toMatch(/^sed -i .*nf_conntrack_max = 65536\/' \/etc\/sysctl\.d\/90-conntrack\.conf   # it sets 128 now \(line 1\)$/);
    const boot = f.evidence.find((e) => e.source === "sysctl-d");
    expect(boot).toMatchObject({ line: 1, text: "net.netfilter.nf_conntrack_max = 128" });
    expect(fix.persist.join("\n")).toMatch(/modules-load\.d\/nf_conntrack\.conf.*conntrack-sysctl-not-applied/);
    expect(fix.rationale).toMatch(/16\.5 MiB/);
    expect(fix.rollback).toContain("sysctl -w net.netfilter.nf_conntrack_max=128");
    expect(fix.verify.join("\n")).toMatch(/drop=/);
  });

  it("soundcloud-stateful (6.1 lab): fires, drops 688 in counters vs 10 log lines, rates from the two samples", () => {
    const f = one("stateful");
    expect(f.metrics).toMatchObject({ drop: 688, logTotal: 10, count: 256, max: 256, dropsPerSecond: 0, sampleSeconds: 34 });
    expect(f.summary).toMatch(/count drops from the counters/);
    const e = f.evidence.find((x) => x.source === "dmesg" && x.line === 356);
    expect(e?.text).toBe("[    7.001131] nf_conntrack: nf_conntrack: table full, dropping packet");
    expect(e?.path).toMatch(/commands\/dmesg$/);
  });

  it("table-full-tcp-initns (nftables): NOTRACK fix in nft syntax for the dominant port", () => {
    const f = one("initns");
    expect(f.metrics.drop).toBe(776);
    const nt = f.fixes.find((x) => /NOTRACK/.test(x.title));
    expect(nt?.commands).toContain("nft add rule inet nfdiag_notrack pre tcp dport 8080 notrack");
    expect(nt?.rationale).toMatch(/100 % of the 512 entries/);
  });

  it("table-full-udp-earlydrop: early_drop counted and explained, UNREPLIED udp timeout fix offered", () => {
    const f = one("udp");
    expect(f.metrics).toMatchObject({ drop: 3463, earlyDrop: 2281 });
    expect(f.summary).toMatch(/early_drop=2281 \(entries evicted to make room\)/);
    expect(f.mechanism).toMatch(/early_drop=2281/);
    const t = f.fixes.find((x) => x.title.includes("nf_conntrack_udp_timeout"));
    expect(t?.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_udp_timeout=10"]);
  });

  it("stays silent when the table is not full: soundcloud-62 (conntrack loaded, count 0), healthy, near-capacity, expect-table-full", () => {
    expect(r.sc62).toEqual([]);
    expect(r.healthy).toEqual([]);
    expect(r.near).toEqual([]);
    expect(r.expect).toEqual([]);
    expect(r.timeouts).toEqual([]);
  });

  it("table-full-netns (6.1, plain message): the full child namespace is found from the collector's per-namespace count and counters", () => {
    const f = one("labNetns");
    expect(f.metrics).toMatchObject({ netnsFull: "lab-srv", drop: 240, earlyDrop: 1, count: 0, max: 64 });
    expect(f.summary).toMatch(/in network namespace lab-srv/);
    expect(f.summary).toMatch(/64 in lab-srv of nf_conntrack_max 64; the initial namespace holds 0/);
    const ns = f.evidence.find((e) => e.source === "netns-conntrack-count");
    expect(ns?.path).toMatch(/netns\/lab-srv\/files\/proc\/sys\/net\/netfilter\/nf_conntrack_count$/);
    expect(ns).toMatchObject({ line: 1, text: "64" });
    expect(f.evidence.some((e) => e.source === "netns-conntrack-stats" && /netns\/lab-srv\//.test(e.path))).toBe(true);
  });

  it("mixed-table-full-neighbour: the 1265 suppressed after the neighbour burst are not counted as conntrack drops", () => {
    const f = one("mixed");
    expect(f.metrics).toMatchObject({ drop: 827, earlyDrop: 289, logSuppressed: 0 });
    expect(f.mechanism).not.toMatch(/suppressed copies are an upper bound/);
  });

  it("real 6.18 lines: `table full in netns N` names the child namespaces; init netns count 0 does not hide it", () => {
    expect(netns).toHaveLength(1);
    const f = netns[0]!;
    expect(f.metrics.netnsFull).toBe("4026532246,4026532177");
    expect(f.summary).toMatch(/in network namespaces 4026532246, 4026532177 \(child namespaces/);
    expect(f.mechanism).toMatch(/From 6\.17 the message names the namespace/);
    const e = f.evidence.find((x) => x.line === 25);
    expect(e?.text).toBe("[  267.087928] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet");
    expect(e?.highlight).toBe("nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet");
    expect(f.metrics.drop).toBe(31);
    const cpu1 = f.evidence.find((x) => x.source === "conntrack-stats" && x.line === 2);
    expect(cpu1?.highlight).toBe("drop=31");
  });
});

describe("conntrack-table-full across kernel versions (derived bundles)", () => {
  it("2.6.18 ip_conntrack: trailing-period message, ip_conntrack_max sysctl and ip_conntrack hashsize parameter", () => {
    const f = one("k2618");
    expect(f.metrics).toMatchObject({ logLines: 20, logSuppressed: 12, count: 65536, max: 65536 });
    expect(f.evidence[0]?.highlight).toBe("ip_conntrack: table full, dropping packet.");
    const fix = f.fixes[0]!;
    expect(fix.commands[0]).toBe("sysctl -w net.ipv4.netfilter.ip_conntrack_max=131072");
    expect(fix.commands[1]).toMatch(/^echo 32768 > \/sys\/module\/ip_conntrack\/parameters\/hashsize/);
    expect(fix.persist.join("\n")).toContain("options ip_conntrack hashsize=32768");
    expect(f.metrics.entryBytes).toBe(304);
    expect(f.mechanism).toMatch(/≤ 4\.9\) loading nf_conntrack_ipv4\/ipv6 registers the conntrack hooks globally/);
    expect(f.mechanism).toMatch(/Before 4\.7 each namespace also has its own hash table/);
  });

  it("3.10: buckets read-only by sysctl → hashsize parameter; the sysctl.d file that lowered max is cited and edited", () => {
    const f = one("k310");
    expect(f.evidence[0]?.highlight).toBe("nf_conntrack: table full, dropping packet");
    const boot = f.evidence.find((e) => e.source === "sysctl-d");
    expect(boot?.path).toMatch(/files\/etc\/sysctl\.d\/90-conntrack\.conf$/);
    expect(boot?.text).toBe("net.netfilter.nf_conntrack_max = 1024");
    const fix = f.fixes[0]!;
    expect(fix.title).toBe("Raise net.netfilter.nf_conntrack_max to 65536 and the hash to 16384 buckets");
    expect(fix.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_max=65536"]);
    expect(fix.persist[0]).toMatch(/^sed -i .*nf_conntrack_max = 65536\/' \/etc\/sysctl\.d\/90-conntrack\.conf/);
    expect(f.metrics).toMatchObject({ drop: 3383, kernelDefaultMax: 65536, entryBytes: 320 });
    expect(f.fixes.some((x) => x.title === "Lower net.netfilter.nf_conntrack_tcp_timeout_established from 432000 to 14400 s")).toBe(true);
  });

  it("4.19 kube node: doubled prefix, drops rising 120/s, buckets via sysctl (≥ 4.9) at 4:1, kube-proxy caveat", () => {
    const f = one("k419");
    expect(f.severity).toBe("critical");
    expect(f.metrics).toMatchObject({ dropsPerSecond: 120, recommendedMax: 524288, recommendedBuckets: 131072 });
    const fix = f.fixes[0]!;
    expect(fix.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_max=524288", "sysctl -w net.netfilter.nf_conntrack_buckets=131072   # kernel ≥ 4.9: writable, initial namespace only"]);
    expect(fix.rationale).toMatch(/kube-proxy runs here/);
    expect(fix.rationale).toMatch(/max\/4 as kernels before 5\.15 size it/);
    expect(f.evidence.some((e) => e.source === "counter-samples" && /drop=20000/.test(e.text))).toBe(true);
    expect(f.fixes.some((x) => /Unload nf_conntrack/.test(x.title))).toBe(false);
  });

  it("5.15 with plenty of headroom (count 40 % of max, no drops): silent", () => {
    expect(r.k515).toEqual([]);
  });
});
