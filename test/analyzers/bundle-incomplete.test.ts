import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/bundle-incomplete.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("bundle-incomplete", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      budget: "samples/collector-budget/bundle.tar.gz",
      sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
      flood: "samples/log-flood/bundle.tar.gz",
      healthy: "samples/healthy/bundle.tar.gz",
      tcp: "samples/table-full-tcp-initns/bundle.tar.gz",
    }))
      r[k] = await run(p);
  });

  it("real starved collector: budget skips, truncation, and the conclusions they leave unchecked", () => {
    const f = r.budget![0]!;
    expect(f.severity).toBe("low");
    expect(f.metrics).toMatchObject({ budgetSkips: 3, truncated: 8, modulesChanged: false });
    expect(f.summary).toMatch(/skipped because the --max-seconds 15 budget ran out \(sysctl -a; iptables-legacy-save; ip netns list\)/);
    expect(f.summary).toMatch(/the dmesg copy keeps only its first bytes/);
    expect(f.summary).toMatch(/Not checked because of this: .*conntrack-loaded-unused/);
    const ev = f.evidence.find((e) => e.text.includes('"output": "commands/iptables-legacy-save"'))!;
    expect(ev.source).toBe("collector-manifest");
    expect(ev.path).toMatch(/manifest\.json$/);
    expect(ev.text).toContain('"skip_reason": "time budget of --max-seconds 15 exhausted"');
    expect(f.fixes[0]!.commands[0]).toBe("sh nfdiag-collect.sh -o /tmp --max-seconds 600 --max-file-bytes 33554432");
  });

  it("real sosreport: lists sos.log skips (macsec, socket diag), info only", () => {
    const f = r.sos![0]!;
    expect(f.severity).toBe("info");
    expect(f.summary).toMatch(/`ip -s macsec show` \(kernel modules macsec not loaded\)/);
    const ev = f.evidence.find((e) => e.source === "sos-log")!;
    expect(ev.path).toMatch(/sos_logs\/sos\.log$/);
    expect(ev.line).toBe(62);
    expect(ev.text).toContain("skipped command 'ip -s macsec show': required kmods missing: macsec.");
    const sosFix = f.fixes.find((x) => x.title === "Re-run sos for the skipped commands")!;
    expect(sosFix.rationale).toMatch(/LOADS the modules/);
  });

  it("a ring buffer overwritten by LOG lines is a gap only when no syslog copy exists (real log-flood: info)", () => {
    const f = r.flood![0]!;
    expect(f.severity).toBe("info");
    expect(f.evidence[0]).toMatchObject({ source: "dmesg", line: 1 });
    expect(f.summary).toMatch(/starts at uptime 5\.990804 s, not at boot/);
  });

  it("silent on complete collector bundles (gated skips are not gaps)", () => {
    expect(r.healthy).toEqual([]);
    expect(r.tcp).toEqual([]);
  });
});
