import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-hash-undersized.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const tmp: string[] = [];

/** A copy of a derived bundle with another kernel release and sysctl values. */
async function variant(from: string, release: string, sysctl: Record<string, number>, drop: string[] = []): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-hash-"));
  tmp.push(dir);
  await cp(from, dir, { recursive: true });
  await writeFile(join(dir, "commands/uname_-a"), `Linux derived-host ${release} #1 SMP x86_64 GNU/Linux\n`);
  let s = await readFile(join(dir, "commands/sysctl_-a"), "utf8");
  for (const [k, v] of Object.entries(sysctl)) s = s.replace(new RegExp(`^(net\\.netfilter\\.nf_conntrack_${k}) = \\d+$`, "m"), `$1 = ${v}`);
  await writeFile(join(dir, "commands/sysctl_-a"), s);
  for (const d of drop) await rm(join(dir, d), { force: true });
  return dir;
}

const r: Record<string, DetectedFinding[]> = {};
beforeAll(async () => {
  const cases: Record<string, string | Promise<string>> = {
    k515: "test/fixtures/bundles/ct-5.15-hash-undersized",
    lab: "samples/hash-undersized/bundle.tar.gz",
    k419kube: "test/fixtures/bundles/ct-4.19-kube-table-full",
    sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
    near: "samples/near-capacity/bundle.tar.gz",
    healthy: "samples/healthy/bundle.tar.gz",
    // 4.19 without chaintoolong (no such guard before 5.15): ratio 16:1, 6.4 per bucket → medium, hashsize via sysfs? no: ≥ 4.9 sysctl
    k419: variant("test/fixtures/bundles/ct-5.15-hash-undersized", "4.19.0-27-amd64", {}, ["commands/conntrack_-S", "files/proc/net/stat/nf_conntrack"]),
    // 3.10: buckets sysctl read-only → /sys/module/nf_conntrack/parameters/hashsize
    k310: variant("test/fixtures/bundles/ct-5.15-hash-undersized", "3.10.0-1160.el7.x86_64", {}, ["commands/conntrack_-S", "files/proc/net/stat/nf_conntrack"]),
  };
  await Promise.all(Object.entries(cases).map(async ([k, p]) => (r[k] = await run(await p))));
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("conntrack-hash-undersized", () => {
  it("5.15 derived: max 16 × buckets, chaintoolong=510 → high; sysctl resize to 1:1 (1048576); chaintoolong cited", () => {
    expect(r.k515).toHaveLength(1);
    const f = r.k515![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ max: 1048576, buckets: 65536, maxPerBucket: 16, expectedRatio: 1, chaintoolong: 510, recommendedBuckets: 1048576, kubeProxy: false });
    const e = f.evidence.find((x) => x.source === "conntrack-stats" && x.line === 1);
    expect(e?.path).toMatch(/commands\/conntrack_-S$/);
    expect(e?.highlight).toBe("chaintoolong=131");
    expect(e?.text).toContain("chaintoolong=131");
    expect(f.fixes[0]?.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_buckets=1048576   # initial namespace only"]);
    expect(f.fixes[0]?.persist).toEqual(["echo 'options nf_conntrack hashsize=1048576' > /etc/modprobe.d/nf_conntrack.conf"]);
    expect(f.mechanism).toMatch(/8 \+ rand\(24\)/);
  });

  it("real hash-undersized sample (6.1): max raised 16× in sysctl.d, buckets left at 8192, 32000 entries = 3.9 per bucket → medium, resize 1:1", () => {
    expect(r.lab).toHaveLength(1);
    const f = r.lab![0]!;
    expect(f.severity).toBe("medium");
    expect(f.metrics).toMatchObject({ max: 131072, buckets: 8192, maxPerBucket: 16, expectedRatio: 1, recommendedBuckets: 131072 });
    const e = f.evidence.find((x) => x.text === "net.netfilter.nf_conntrack_buckets = 8192");
    expect(e?.path).toMatch(/commands\/sysctl_-a$/);
    expect(e?.line).toBe(766);
    expect(f.fixes[0]?.commands).toEqual(["sysctl -w net.netfilter.nf_conntrack_buckets=131072   # initial namespace only"]);
  });

  it("4.19 variant: ratio default 4 there, 6.4 per bucket is under twice that, no chain guard → low, resize to max/4 by sysctl (≥ 4.9)", () => {
    const f = r.k419![0]!;
    expect(f.severity).toBe("low");
    expect(f.metrics).toMatchObject({ expectedRatio: 4, recommendedBuckets: 262144, chaintoolong: 0 });
    expect(f.fixes[0]?.commands[0]).toMatch(/^sysctl -w net\.netfilter\.nf_conntrack_buckets=262144/);
    expect(f.mechanism).toMatch(/no chain-length guard/);
  });

  it("3.10 variant: buckets sysctl read-only before 4.9 → hashsize module parameter", () => {
    const f = r.k310![0]!;
    expect(f.fixes[0]?.commands[0]).toBe("echo 262144 > /sys/module/nf_conntrack/parameters/hashsize   # nf_conntrack_buckets is read-only before 4.9; initial namespace only");
  });

  it("kube-proxy node at 4:1 (4.19 derived): silent; sosreport (max ≪ buckets), near-capacity (1:1) and healthy: silent", () => {
    expect(r.k419kube).toEqual([]);
    expect(r.sos).toEqual([]);
    expect(r.near).toEqual([]);
    expect(r.healthy).toEqual([]);
  });
});
