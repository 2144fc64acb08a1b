import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-sysctl-not-applied.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const tmp: string[] = [];

/** The real sysctl-not-applied bundle, unpacked, with edits. */
async function variant(edit: (root: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-sna-"));
  tmp.push(dir);
  execFileSync("tar", ["xzf", "samples/sysctl-not-applied/bundle.tar.gz", "-C", dir]);
  const top = (await readdir(dir))[0]!;
  await edit(join(dir, top));
  return dir;
}

let real: DetectedFinding[];
beforeAll(async () => {
  real = await run("samples/sysctl-not-applied/bundle.tar.gz");
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("conntrack-sysctl-not-applied", () => {
  it("real sysctl-not-applied (6.1): configured 262144 vs running 8192, sysctl 'cannot stat' errors cited", () => {
    expect(real).toHaveLength(1);
    const f = real[0]!;
    expect(f.severity).toBe("medium");
    expect(f.metrics).toMatchObject({ maxConfigured: 262144, maxRunning: 8192, settingsNotApplied: 2, writeErrors: 2 });
    const conf = f.evidence.find((e) => e.path.endsWith("files/etc/sysctl.d/90-conntrack.conf") && e.line === 2);
    expect(conf?.text).toBe("net.netfilter.nf_conntrack_max = 262144");
    const runtime = f.evidence.find((e) => e.path.endsWith("commands/sysctl_-a") && e.line === 788);
    expect(runtime?.text).toBe("net.netfilter.nf_conntrack_max = 8192");
    const err = f.evidence.find((e) => e.line === 359);
    expect(err?.text).toContain("sysctl: cannot stat /proc/sys/net/netfilter/nf_conntrack_max: No such file or directory");
    expect(f.summary).toMatch(/sysctl ran before nf_conntrack was loaded/);
    expect(f.fixes[0]!.persist).toEqual(["/etc/modules-load.d/nf_conntrack.conf:", "  nf_conntrack"]);
    expect(f.fixes[0]!.commands).toContain("sysctl -p /etc/sysctl.d/90-conntrack.conf");
    expect(f.fixes.find((x) => x.title === "Apply the configured values now")?.commands).toEqual([
      "sysctl -w net.netfilter.nf_conntrack_max=262144",
      "sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=86400",
    ]);
    // 6.1: buckets are writable by sysctl, no module-parameter detour.
    expect(f.fixes.some((x) => x.title.includes("module parameter"))).toBe(false);
  });

  it.each([
    ["3.10.0-1160.el7.x86_64", true],
    ["4.19.0-27-amd64", false],
    ["5.15.0-100-generic", false],
  ] as const)("kernel %s: hashsize module-parameter fix only where buckets are not writable (< 4.9)", async (release, expectParam) => {
    const dir = await variant(async (root) => {
      await writeFile(join(root, "commands/uname_-a"), `Linux lab-guest ${release} #1 SMP x86_64 GNU/Linux\n`);
    });
    const out = await run(dir);
    expect(out).toHaveLength(1);
    const param = out[0]!.fixes.find((x) => x.title.includes("module parameter"));
    expect(Boolean(param)).toBe(expectParam);
    if (param) expect(param.commands[0]).toBe("echo 'options nf_conntrack hashsize=32768' > /etc/modprobe.d/nf_conntrack.conf");
  });

  it("kube-proxy values (max(32768 × CPUs, 131072), established 86400) point at kube-proxy", async () => {
    const dir = await variant(async (root) => {
      const p = join(root, "commands/sysctl_-a");
      await writeFile(p, (await readFile(p, "utf8")).replace("net.netfilter.nf_conntrack_max = 8192", "net.netfilter.nf_conntrack_max = 131072"));
      await writeFile(join(root, "files/etc/sysctl.d/90-conntrack.conf"), "net.netfilter.nf_conntrack_max = 262144\nnet.netfilter.nf_conntrack_tcp_timeout_established = 432000\n");
    });
    const out = await run(dir);
    expect(out[0]!.mechanism).toMatch(/kube-proxy sets nf_conntrack_max/);
    expect(out[0]!.fixes[0]!.title).toMatch(/kube-proxy/);
  });

  it.each(["sosreport-debian12-conntrack-full", "soundcloud-62", "healthy", "near-capacity"])("silent on %s (files match the running values)", async (name) => {
    expect(await run(`samples/${name}/bundle.tar.gz`)).toEqual([]);
  });
});
