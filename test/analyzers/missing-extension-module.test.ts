import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/missing-extension-module.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const tmp: string[] = [];

let real: DetectedFinding[];
let derived: DetectedFinding[];
let rsyslog: DetectedFinding[];
let flooded: DetectedFinding[];
beforeAll(async () => {
  // The same real line repeated past the parser's per-class cap (2,000 kept, then new texts only).
  const flood = await mkdtemp(join(tmpdir(), "nfdiag-mx-flood-"));
  tmp.push(flood);
  const warning = "lab-host iptables: Warning: Extension ipvs revision 0 not supported, missing kernel module?";
  const lines = Array.from({ length: 2500 }, (_, i) => `2026-11-22T07:${String(15 + Math.floor(i / 60)).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}.456501+00:00 ${warning}`);
  await writeFile(join(flood, "kern.log"), `${lines.join("\n")}\n`);
  await writeFile(join(flood, "uname_-a"), "Linux lab-host 6.18.0-lab #1 SMP x86_64 GNU/Linux\n");
  flooded = await run(flood);
  // The real rsyslog capture of the 6.18 lab (iptables/modprobe stderr via logger) as a loose bundle.
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-mx-"));
  tmp.push(dir);
  await cp("test/fixtures/kernel-log/kern-rsyslog-default.txt", join(dir, "kern.log"));
  await writeFile(join(dir, "uname_-a"), "Linux lab-host 6.18.0-lab #1 SMP x86_64 GNU/Linux\n");
  [real, derived, rsyslog] = await Promise.all([run("samples/missing-xt-recent/bundle.tar.gz"), run("test/fixtures/bundles/mod-missing-xt-recent"), run(dir)]);
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("missing-extension-module", () => {
  it("real missing-xt-recent: xt_recent not installed for 6.1, restore failed, high", () => {
    expect(real).toHaveLength(1);
    const f = real[0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ module: "xt_recent", extension: "recent", onDisk: false, userspaceMissing: false });
    const modprobe = f.evidence.find((e) => e.line === 369);
    expect(modprobe?.path).toMatch(/files\/var\/log\/syslog$/);
    expect(modprobe?.text).toContain("modprobe: FATAL: Module xt_recent not found in directory /lib/modules/6.1.0-56-amd64");
    expect(modprobe?.highlight).toBe("Module xt_recent not found");
    expect(f.evidence.some((e) => e.text.includes("Warning: Extension recent revision 0 not supported, missing kernel module?"))).toBe(true);
    expect(f.evidence.some((e) => e.source === "modules-on-disk" && e.text.includes("no xt_recent.ko"))).toBe(true);
    // Debian: the modules live in linux-image itself.
    const pkg = f.fixes.find((x) => x.title.startsWith("Install the kernel's module package"));
    expect(pkg?.commands[0]).toBe("apt-get install --reinstall linux-image-$(uname -r)");
    expect(pkg?.persist).toContain("  xt_recent");
    expect(f.fixes.some((x) => x.title.startsWith("Load xt_recent"))).toBe(false);
  });

  it("derived 6.1 bundle: cites the saved rule line that uses recent", () => {
    expect(derived).toHaveLength(1);
    const rule = derived[0]!.evidence.find((e) => e.path === "files/etc/iptables/rules.v4" && e.line === 8);
    expect(rule?.text).toContain("-m recent --set --name SSH");
    expect(rule?.highlight).toBe("recent");
  });

  it("real 6.18 rsyslog lines: ipvs (kernel side) and a userspace-only `Couldn't load match`", () => {
    const ipvs = rsyslog.find((f) => f.metrics.module === "xt_ipvs");
    expect(ipvs?.evidence[0]).toMatchObject({ path: "kern.log", line: 31 });
    expect(ipvs?.evidence[0]!.text).toContain("Warning: Extension ipvs revision 0 not supported, missing kernel module?");
    const user = rsyslog.find((f) => f.metrics.extension === "klogmissing");
    expect(user?.metrics.userspaceMissing).toBe(true);
    expect(user?.evidence[0]).toMatchObject({ path: "kern.log", line: 33 });
    expect(user?.fixes[0]!.title).toContain("libxt_klogmissing.so");
    expect(user?.confidence).toBeLessThan(ipvs!.confidence);
  });

  it("past the parser's cap the count of error lines is a lower bound, and the last kept line is no last-seen time", () => {
    const ipvs = flooded.find((f) => f.metrics.module === "xt_ipvs");
    expect(ipvs?.metrics).toMatchObject({ errorLines: 2000, errorLinesAtLeast: true });
    expect(ipvs?.summary).toContain("At least 2000 error line(s) (the log holds more lines of this kind than the parser keeps)");
    expect(ipvs?.firstSeen).toBe("2026-11-22T07:15:00.456501+00:00");
    expect(ipvs?.lastSeen).toBeUndefined();
    // Under the cap the count is exact.
    const exact = rsyslog.find((f) => f.metrics.module === "xt_ipvs");
    expect(exact?.metrics.errorLinesAtLeast).toBe(false);
    expect(exact?.summary).not.toContain("At least");
  });

  it("the Ubuntu extra-modules package is named for Ubuntu kernels", async () => {
    const dir = await mkdtemp(join(tmpdir(), "nfdiag-mx-"));
    tmp.push(dir);
    await cp("test/fixtures/bundles/mod-missing-xt-recent", dir, { recursive: true });
    await writeFile(join(dir, "commands/uname_-a"), "Linux h 5.15.0-100-generic #110-Ubuntu SMP x86_64 GNU/Linux\n");
    await writeFile(join(dir, "files/etc/os-release"), 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n');
    const out = await run(dir);
    expect(out[0]!.fixes.find((x) => x.title.startsWith("Install"))?.commands).toContain("apt-get install linux-modules-extra-$(uname -r)");
  });

  it.each(["modprobe-install-false", "healthy", "soundcloud-62", "sosreport-debian12-conntrack-full"])("silent on %s", async (name) => {
    expect(await run(`samples/${name}/bundle.tar.gz`)).toEqual([]);
  });
});
