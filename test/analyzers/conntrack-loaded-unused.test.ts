import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-loaded-unused.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);
const DERIVED = "test/fixtures/bundles/mod-soundcloud-4.4";
const tmp: string[] = [];

/** The derived ≤ 4.9 bundle with another kernel release; on ≥ 4.10 nothing is tracked, so the drops go too. */
async function variant(release: string, quiet: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "nfdiag-lu-"));
  tmp.push(dir);
  await cp(DERIVED, dir, { recursive: true });
  await writeFile(join(dir, "commands/uname_-a"), `Linux ams-mid006 ${release} #1 SMP x86_64 GNU/Linux\n`);
  if (quiet) {
    const dmesg = (await readFile(join(dir, "commands/dmesg"), "utf8")).split("\n").filter((l) => !/table full|callbacks suppressed|nf_conntrack version/.test(l)); // the text split into lines; not a test call
    await writeFile(join(dir, "commands/dmesg"), dmesg.join("\n"));
    const sysctl = (await readFile(join(dir, "commands/sysctl_-a"), "utf8")).replace(/nf_conntrack_count = \d+/, "nf_conntrack_count = 0");
    await writeFile(join(dir, "commands/sysctl_-a"), sysctl);
    await rm(join(dir, "files/proc/net/stat/nf_conntrack"));
  }
  return dir;
}

let sc62: DetectedFinding[];
let derived49: DetectedFinding[];
let blacklist: DetectedFinding[];
beforeAll(async () => {
  [sc62, derived49, blacklist] = await Promise.all([run("samples/soundcloud-62/bundle.tar.gz"), run(DERIVED), run("samples/blacklist-ineffective/bundle.tar.gz")]);
});
afterAll(async () => {
  await Promise.all(tmp.map((d) => rm(d, { recursive: true, force: true })));
});

describe("conntrack-loaded-unused", () => {
  it("real 6.1 soundcloud-62: fires at low severity, says harmless on 6.1, cites /proc/modules and the empty nat table", () => {
    expect(sc62).toHaveLength(1);
    const f = sc62[0]!;
    expect(f.severity).toBe("low");
    expect(f.mechanism).toMatch(/Harmless on this kernel \(6\.1\.0-56-amd64\)/);
    expect(f.mechanism).toMatch(/≤ 4\.9/);
    const mod = f.evidence.find((e) => e.path.endsWith("files/proc/modules") && e.line === 3);
    expect(mod?.text).toBe("nf_conntrack 188416 1 nf_nat, Live 0xffffffffc05a8000");
    const nat = f.evidence.find((e) => e.path.endsWith("files/proc/net/ip_tables_names"));
    expect(nat).toMatchObject({ line: 1, text: "nat" });
    expect(f.metrics.unloadOrder).toBe("iptable_nat nf_nat nf_conntrack");
    expect(f.metrics.conntrackCount).toBe(0);
    expect(f.fixes[0]?.commands).toContain("modprobe -r iptable_nat nf_nat nf_conntrack");
    expect(f.fixes[1]?.persist.join("\n")).toContain("install nf_conntrack /bin/false");
    expect(f.fixes[1]?.rationale).toMatch(/docker, kube-proxy/);
  });

  it("derived 4.4 (≤ 4.9) SoundCloud: high severity, banner and first drop cited, nf_conntrack_ipv4 in the unload chain", () => {
    expect(derived49).toHaveLength(1);
    const f = derived49[0]!;
    expect(f.severity).toBe("high");
    expect(analyzer.meta.explains).toContain("conntrack-table-full");
    const banner = f.evidence.find((e) => e.path === "commands/dmesg" && e.line === 3);
    expect(banner?.text).toBe("[8623422.444931] nf_conntrack version 0.5.0 (16384 buckets, 65536 max)");
    expect(f.evidence.some((e) => e.path === "commands/dmesg" && e.line === 4 && e.text.includes("nf_conntrack: table full, dropping packet"))).toBe(true);
    expect(f.metrics.secondsFromLoadToFirstDrop).toBe(497);
    expect(f.metrics.unloadOrder).toBe("iptable_nat nf_nat nf_conntrack_ipv4 nf_conntrack");
    expect(f.fixes[1]?.persist.join("\n")).toContain("install nf_conntrack_ipv4 /bin/false");
    expect(f.mechanism).toMatch(/every packet/);
  });

  it.each([
    ["3.10.0-1160.el7.x86_64", false, "high"],
    ["4.19.0-27-amd64", true, "low"],
    ["5.15.0-100-generic", true, "low"],
    ["6.8.0-45-generic", true, "low"],
  ] as const)("kernel %s: severity follows the 4.10 boundary", async (release, quiet, severity) => {
    const out = await run(await variant(release, quiet));
    expect(out).toHaveLength(1);
    expect(out[0]!.severity).toBe(severity);
    expect(out[0]!.evidence.some((e) => e.path === "commands/lsmod" && e.line === 5 && e.text.startsWith("nf_conntrack "))).toBe(true);
    if (severity === "low") expect(out[0]!.mechanism).toMatch(/Harmless on this kernel/);
    else expect(out[0]!.fixes[0]!.cureLikelihood).toBeGreaterThan(0.8);
  });

  it("on ≥ 4.10 a full table means some rule tracks: silent", async () => {
    const out = await run(await variant("5.15.0-100-generic", false));
    expect(out).toEqual([]);
  });

  it("real blacklist-ineffective: fires and cites the plain blacklist as ineffective", () => {
    expect(blacklist).toHaveLength(1);
    const ev = blacklist[0]!.evidence.find((e) => e.path.endsWith("files/etc/modprobe.d/blacklist-conntrack.conf"));
    expect(ev).toMatchObject({ line: 2, text: "blacklist nf_conntrack" });
    expect(ev?.note).toMatch(/ineffective/);
    expect(blacklist[0]!.fixes[1]!.commands[0]).toBe("sed -i '2s/^/# /' /etc/modprobe.d/blacklist-conntrack.conf   # the ineffective blacklist line");
  });

  it.each(["soundcloud-stateful", "sosreport-debian12-conntrack-full", "table-full-tcp-initns", "sos-soundcloud-stateful", "healthy", "missing-xt-recent", "modprobe-install-false"])(
    "silent on %s (a rule needs conntrack, or it is not loaded)",
    async (name) => {
      expect(await run(`samples/${name}/bundle.tar.gz`)).toEqual([]);
    },
  );
});
