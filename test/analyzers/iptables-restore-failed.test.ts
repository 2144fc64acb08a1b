import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/iptables-restore-failed.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("iptables-restore-failed", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      recent: "samples/missing-xt-recent/bundle.tar.gz",
      rhel8: "test/fixtures/bundles/rules-restore-failed-rhel8",
      k419: "test/fixtures/bundles/rules-enomem-4.19",
      healthy: "samples/healthy/bundle.tar.gz",
      sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
    }))
      r[k] = await run(p);
  });

  it("real 6.1: `Error occurred at line: 8` → line 8 of rules.v4, quoted and explained (xt_recent missing)", () => {
    const f = r.recent![0]!;
    expect(f.severity).toBe("high");
    expect(f.metrics).toMatchObject({ failingLines: "8", restoreFailures: 2, savedRules: 7, liveRules: 0, cause: "missing-extension-module", missingModules: "xt_recent" });
    const saved = f.evidence.find((e) => e.source === "saved-rules")!;
    expect(saved.path).toMatch(/files\/etc\/iptables\/rules\.v4$/);
    expect(saved.line).toBe(8);
    expect(saved.text).toBe("-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -m recent --set --name SSH --mask 255.255.255.255 --rsource");
    const failed = f.evidence[0]!;
    expect(failed.path).toMatch(/files\/var\/log\/syslog$/);
    expect(failed.text).toMatch(/netfilter-persistent: Error occurred at line: 8$/);
    expect(f.evidence.some((e) => e.text.includes('unknown option "--mask"'))).toBe(true);
    expect(f.summary).toMatch(/runs without its firewall/);
    const fix = f.fixes[0]!;
    expect(fix.title).toBe("Fix line 8 of /etc/iptables/rules.v4");
    expect(fix.commands).toContain("modprobe xt_recent   # if this works, no edit is needed");
    // Line 9 needs the same module: both are disabled together.
    expect(fix.commands.some((c) => c.includes("-e '8s/^/# nfdiag: disabled") && c.includes("-e '9s/^/"))).toBe(true);
  });

  it("RHEL 8 journal: iptables.service failed, line 12 of /etc/sysconfig/iptables", () => {
    const f = r.rhel8![0]!;
    expect(f.metrics).toMatchObject({ failingLines: "12", failedUnits: 1, missingModules: "xt_recent" });
    const unit = f.evidence.find((e) => e.highlight === "iptables.service")!;
    expect(unit.path).toMatch(/commands\/journalctl_-k_--no-pager$/);
    expect(unit.text).toContain("iptables.service: Failed with result 'exit-code'.");
    const saved = f.evidence.find((e) => e.source === "saved-rules")!;
    expect(saved).toMatchObject({ line: 12 });
    expect(saved.text).toContain("-m recent --update --seconds 60 --hitcount 4 --name ssh2");
    expect(f.fixes[0]!.commands).toContain("systemctl restart iptables.service");
    expect(f.fixes[0]!.commands).toContain("sed -i -e '12s/^/# nfdiag: disabled, failed to restore: /' -e '13s/^/# nfdiag: disabled, failed to restore: /' /etc/sysconfig/iptables   # only if the module cannot be had");
  });

  it("a failing COMMIT line is explained as the whole table refused (ENOMEM → ruleset-too-large)", () => {
    const f = r.k419![0]!;
    expect(f.evidence.find((e) => e.source === "saved-rules")).toMatchObject({ line: 2026, text: "COMMIT" });
    expect(f.summary).toMatch(/COMMIT of table filter: the kernel refused the table as a whole; with "Memory allocation problem"/);
    expect(f.metrics.cause).toBe("ruleset-too-large");
  });

  it("silent without restore failures", () => {
    expect(r.healthy).toEqual([]);
    expect(r.sos).toEqual([]);
  });
});
