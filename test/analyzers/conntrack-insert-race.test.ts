import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-insert-race.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const BASE = "test/fixtures/bundles/mod-insert-race-4.19";
const tmp: string[] = [];

async function variant(release: string, stats?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-ir-"));
  tmp.push(dir);
  await cp(BASE, dir, { recursive: true });
  await writeFile(join(dir, "commands/uname_-a"), `Linux k8s-node-3 ${release} #1 SMP x86_64 GNU/Linux\n`);
  if (stats) await writeFile(join(dir, "commands/conntrack_-S"), stats);
  return dir;
}

let base: DetectedFinding[];
beforeAll(async () => {
  base = await run(BASE);
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("conntrack-insert-race", () => {
  it("derived 4.19 kube node: insert_failed = drop, DNS DNAT via -m statistic → high, kernel upgrade first", () => {
    expect(base).toHaveLength(1);
    const f = base[0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ insert_failed: 639, drop: 639 });
    const stats = f.evidence.find((e) => e.path === "commands/conntrack_-S" && e.line === 1);
    expect(stats?.text).toContain("insert_failed=341");
    const dnat = f.evidence.find((e) => e.path === "commands/iptables-save" && e.line === 19);
    expect(dnat?.text).toBe('-A KUBE-SEP-IT2ZTR26TO4XFPTO -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination 10.244.0.2:53');
    expect(f.evidence.some((e) => e.line === 17 && e.highlight === "statistic")).toBe(true);
    expect(f.fixes[0]!.title).toBe("Upgrade the kernel to ≥ 5.6 (running 4.19.0-27-amd64)");
    const rf = f.fixes.find((x) => x.title.startsWith("--random-fully"));
    expect(rf?.commands[0]).toBe('iptables -t nat -I KUBE-POSTROUTING 1 -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully');
  });

  it("4.19 with insert_failed but drop = 0: resolved clashes, info only", async () => {
    const out = await run(
      await variant(
        "4.19.0-27-amd64",
        "cpu=0   \tfound=5012 invalid=12 ignore=88213 insert=0 insert_failed=341 drop=0 early_drop=0 error=2 search_restart=17 \ncpu=1   \tfound=4877 invalid=9 ignore=86102 insert=0 insert_failed=298 drop=0 early_drop=0 error=0 search_restart=21 \n",
      ),
    );
    expect(out[0]!.severity).toBe("info");
    expect(out[0]!.summary).toMatch(/no packet was lost/);
  });

  it("3.10: exposed and losing packets, upgrade offered", async () => {
    const out = await run(await variant("3.10.0-1160.el7.x86_64"));
    expect(out[0]!.severity).toBe("high");
    expect(out[0]!.fixes[0]!.title).toMatch(/Upgrade the kernel to ≥ 5\.6/);
  });

  it.each(["5.15.0-100-generic", "6.1.0-56-amd64"])("%s (≥ 5.10 semantics): insert_failed are real losses, no kernel-upgrade fix", async (release) => {
    const out = await run(
      await variant(
        release,
        "cpu=0   \tfound=5012 invalid=12 insert=0 insert_failed=41 drop=41 early_drop=0 error=2 search_restart=17 clash_resolve=880 chaintoolong=0 \ncpu=1   \tfound=4877 invalid=9 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=21 clash_resolve=912 chaintoolong=0 \n",
      ),
    );
    expect(out[0]!.severity).toBe("high");
    expect(out[0]!.metrics.clash_resolve).toBe(1792);
    expect(out[0]!.fixes.some((x) => x.title.startsWith("Upgrade the kernel"))).toBe(false);
    expect(out[0]!.mechanism).toMatch(/≥ 5\.10 insert_failed counts only real losses/);
  });

  it.each(["sosreport-debian12-conntrack-full", "healthy", "table-full-udp-earlydrop", "soundcloud-62"])("silent on %s", async (name) => {
    expect(await run(`samples/${name}/bundle.tar.gz`)).toEqual([]);
  });
});
