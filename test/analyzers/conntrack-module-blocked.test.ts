import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/conntrack-module-blocked.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const run = async (path: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(path)).facts);

let real: DetectedFinding[];
let derived: DetectedFinding[];
let blacklist: DetectedFinding[];
beforeAll(async () => {
  [real, derived, blacklist] = await Promise.all([
    run("samples/modprobe-install-false/bundle.tar.gz"),
    run("test/fixtures/bundles/mod-install-false"),
    run("samples/blacklist-ineffective/bundle.tar.gz"),
  ]);
});

describe("conntrack-module-blocked", () => {
  it("real modprobe-install-false: high, cites the install line and the nat-table and modprobe errors", () => {
    expect(real).toHaveLength(1);
    const f = real[0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics.module).toBe("nf_conntrack");
    expect(f.evidence[0]).toMatchObject({ line: 2, text: "install nf_conntrack /bin/false", highlight: "nf_conntrack" });
    expect(f.evidence[0]!.path).toMatch(/files\/etc\/modprobe\.d\/nf_conntrack\.conf$/);
    const nat = f.evidence.find((e) => e.text.includes("can't initialize iptables table `nat'"));
    expect(nat?.path).toMatch(/files\/var\/log\/syslog$/);
    expect(nat?.line).toBe(363);
    expect(f.evidence.some((e) => e.line === 365 && e.text.includes("Error running install command '/bin/false' for module nf_conntrack"))).toBe(true);
    expect(f.fixes[0]!.commands[0]).toBe("sed -i '2s/^/# /' /etc/modprobe.d/nf_conntrack.conf");
    expect(f.fixes[0]!.title).toContain("/etc/modprobe.d/nf_conntrack.conf:2");
    expect(f.fixes[1]!.commands).toEqual(expect.arrayContaining(["modprobe nf_conntrack", "modprobe iptable_nat"]));
    expect(f.fixes[1]!.verify).toContain("cat /proc/net/ip_tables_names   # expect nat");
  });

  it("derived install-false bundle: same diagnosis from the lab-notes error texts", () => {
    expect(derived).toHaveLength(1);
    expect(derived[0]!.severity).toBe("high");
    expect(derived[0]!.evidence.find((e) => e.path === "files/var/log/syslog" && e.line === 1)?.text).toContain("Error running install command '/bin/false' for module nf_conntrack: retcode 1");
    expect(derived[0]!.firstSeen).toBe("2026-11-22T07:26:41.512204+00:00");
  });

  it("a plain blacklist that did not stop the dependency load is not reported (blacklist-ineffective)", () => {
    expect(blacklist).toEqual([]);
  });

  it.each(["soundcloud-62", "healthy", "sosreport-debian12-conntrack-full", "missing-xt-recent"])("silent on %s", async (name) => {
    expect(await run(`samples/${name}/bundle.tar.gz`)).toEqual([]);
  });
});
