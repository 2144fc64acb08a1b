import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-near-capacity.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const tmp: string[] = [];
let near: DetectedFinding[], sos: DetectedFinding[], stateful: DetectedFinding[], healthy: DetectedFinding[], sc62: DetectedFinding[], growing: DetectedFinding[], k515: DetectedFinding[];

/** The derived 5.15 bundle with count at 80 % and two samples 10 s apart, 50 entries/s of growth. */
async function growingBundle(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-near-"));
  tmp.push(dir);
  await cp("test/fixtures/bundles/ct-5.15-memory-pressure", dir, { recursive: true });
  const sysctl = (await import("node:fs")).readFileSync(join(dir, "commands/sysctl_-a"), "utf8").replace("nf_conntrack_count = 40000", "nf_conntrack_count = 209715");
  await writeFile(join(dir, "commands/sysctl_-a"), sysctl);
  await writeFile(join(dir, "commands/dmesg"), "[    0.000000] Linux version 5.15.0-91-generic\n");
  await writeFile(join(dir, "samples/1/nf_conntrack_count"), "209215\n");
  await writeFile(join(dir, "samples/2/nf_conntrack_count"), "209715\n");
  for (const s of ["samples/1/stat_nf_conntrack", "samples/2/stat_nf_conntrack", "files/proc/net/stat/nf_conntrack"]) {
    const f = (await import("node:fs")).readFileSync(join(dir, s), "utf8").replace(/ 00000(384|352|3b6) /g, " 00000000 ");
    await writeFile(join(dir, s), f);
  }
  return dir;
}

beforeAll(async () => {
  [near, sos, stateful, healthy, sc62, k515] = await Promise.all([
    run("samples/near-capacity/bundle.tar.gz"),
    run("samples/sosreport-debian12-conntrack-full/bundle.tar.gz"),
    run("samples/soundcloud-stateful/bundle.tar.gz"),
    run("samples/healthy/bundle.tar.gz"),
    run("samples/soundcloud-62/bundle.tar.gz"),
    run("test/fixtures/bundles/ct-5.15-hash-undersized"),
  ]);
  growing = await run(await growingBundle());
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("conntrack-near-capacity", () => {
  it("real near-capacity sample (6.1): 7500 of 8192 = 92 % → high, no drops, flat over the 65 s between samples", () => {
    expect(near).toHaveLength(1);
    const f = near[0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ count: 7500, max: 8192, fill: 0.916, growthPerSecond: 0, sampleSeconds: 65, secondsToFull: null });
    const c = f.evidence.find((e) => e.line === 768);
    expect(c?.path).toMatch(/commands\/sysctl_-a$/);
    expect(c?.text).toBe("net.netfilter.nf_conntrack_count = 7500");
    expect(f.summary).toMatch(/92 % full: 7500 of nf_conntrack_max 8192/);
    expect(f.fixes[0]?.commands[0]).toBe("sysctl -w net.netfilter.nf_conntrack_max=16384");
    expect(f.metrics.recommendedBuckets).toBe(16384);
  });

  it("silent when the table overflowed (conntrack-table-full covers it): sosreport, soundcloud-stateful", () => {
    expect(sos).toEqual([]);
    expect(stateful).toEqual([]);
  });

  it("silent on healthy, soundcloud-62 (count 0) and a 40 % table", () => {
    expect(healthy).toEqual([]);
    expect(sc62).toEqual([]);
    expect(k515).toEqual([]);
  });

  it("growth between two samples gives the time to full (80 % → medium)", () => {
    expect(growing).toHaveLength(1);
    const f = growing[0]!;
    expect(f.severity).toBe("medium");
    expect(f.metrics).toMatchObject({ growthPerSecond: 50, secondsToFull: 1049 });
    expect(f.summary).toMatch(/grew by 500 entries in 10 s \(50\.0\/s\): full in about 17 min/);
  });
});
