import { beforeAll, describe, expect, it } from "vitest";
import { analyzer } from "../../analyzers/ruleset-too-large.js";
import type { DetectedFinding } from "../../src/engine/types.js";
import { factsFromBundle } from "../../src/pipeline/facts-from-bundle.js";

const root = new URL("../../", import.meta.url).pathname;
const run = async (p: string): Promise<DetectedFinding[]> => analyzer.detect((await factsFromBundle(root + p)).facts);

describe("ruleset-too-large", () => {
  const r: Record<string, DetectedFinding[]> = {};
  beforeAll(async () => {
    for (const [k, p] of Object.entries({
      big: "samples/big-ruleset/bundle.tar.gz",
      enomem: "samples/ruleset-enomem/bundle.tar.gz",
      healthy: "samples/healthy/bundle.tar.gz",
      sos: "samples/sosreport-debian12-conntrack-full/bundle.tar.gz",
      k310: "test/fixtures/bundles/rules-enomem-3.10",
      k419: "test/fixtures/bundles/rules-enomem-4.19",
      k515: "test/fixtures/bundles/rules-enomem-5.15",
    }))
      r[k] = await run(p);
  });

  it("real 6.1 nft rule set of 20,004 rules: medium, one ipset replaces the 20,000 -s rules", () => {
    const [f] = r.big!;
    expect(r.big).toHaveLength(1);
    expect(f!.severity).toBe("medium");
    expect(f!.metrics).toMatchObject({ rules: 20004, largestGroup: 20000, largestGroupChain: "filter/BLOCKLIST", backend: "nf_tables" });
    const ev = f!.evidence.find((e) => e.note?.startsWith("first of 20000"));
    expect(ev).toMatchObject({ source: "iptables-nft-save", line: 11, text: "-A BLOCKLIST -s 10.100.0.1/32 -j DROP", highlight: "10.100.0.1/32" });
    expect(ev!.path).toMatch(/commands\/iptables-nft-save$/);
    const fix = f!.fixes[0]!;
    expect(fix.commands).toContain("ipset create nfdiag-blocklist hash:net family inet hashsize 8192 maxelem 65536");
    expect(fix.commands).toContain("ipset add nfdiag-blocklist 10.100.0.1/32");
    expect(fix.commands).toContain("iptables-nft -t filter -I BLOCKLIST 1 -m set --match-set nfdiag-blocklist src -j DROP");
    expect(fix.commands.some((c) => c.startsWith("# … and the other 19995 addresses"))).toBe(true);
    expect(f!.mechanism).toMatch(/5\.0 s with nft vs 0\.8 s legacy/);
  });

  it("real memcg OOM kill of iptables-legacy-restore through xt_alloc_table_info: critical, cgroup fix first", () => {
    const [f] = r.enomem!;
    expect(f!.severity).toBe("critical");
    expect(f!.metrics).toMatchObject({ oomKills: 2, memoryCgroups: "/fw-32M,/fw-48M" });
    const kill = f!.evidence.find((e) => e.highlight === "Memory cgroup out of memory");
    expect(kill!.path).toMatch(/commands\/dmesg$/);
    expect(kill!.line).toBe(443);
    expect(kill!.text).toContain("Killed process 115 (iptables-legacy)");
    expect(f!.evidence.some((e) => e.highlight === "xt_alloc_table_info" && e.text.includes("xt_alloc_table_info+0x26/0x70"))).toBe(true);
    expect(f!.fixes[0]!.title).toMatch(/memory limit of cgroup \/fw-32M/);
    expect(f!.fixes[0]!.commands[0]).toBe("cat /sys/fs/cgroup/fw-32M/memory.max /sys/fs/cgroup/fw-32M/memory.peak 2>/dev/null   # the limit and what the restore needed");
    expect(f!.mechanism).toMatch(/GFP_KERNEL_ACCOUNT/);
  });

  it("3.10: per-CPU copies of the blob (blob × nCPU) in the mechanism", () => {
    const [f] = r.k310!;
    expect(f!.severity).toBe("critical");
    expect(f!.mechanism).toMatch(/one copy of the blob per possible CPU/);
    expect(f!.mechanism).toMatch(/8 CPUs here → 8 copies: 2\.0 MiB × 8 = 16\.0 MiB/);
    const ev = f!.evidence.find((e) => e.highlight === "vmalloc: allocation failure");
    expect(ev).toMatchObject({ source: "dmesg", line: 3, text: "[ 5120.771210] vmalloc: allocation failure, allocated 0 of 2097152 bytes" });
    expect(f!.fixes.some((x) => /memory cgroup/.test(x.title))).toBe(false);
  });

  it("4.19: memory cgroup accounting, ENOMEM from iptables", () => {
    const [f] = r.k419!;
    expect(f!.mechanism).toMatch(/4\.19\+\) the blob is allocated with kvmalloc\(GFP_KERNEL_ACCOUNT\)/);
    const ev = f!.evidence.find((e) => e.highlight === "Memory allocation problem");
    expect(ev!.path).toMatch(/files\/var\/log\/syslog$/);
    expect(ev!.text).toContain("iptables: Memory allocation problem.");
    expect(f!.fixes.some((x) => x.title === "Check the memory cgroup limit of the service that restores the rules")).toBe(true);
    expect(f!.fixes.find((x) => x.title.startsWith("Replace 99"))!.commands[0]).toBe("iptables-save > /root/nfdiag-rules.before");
  });

  it("5.15: the `vmalloc error:` format is read", () => {
    const [f] = r.k515!;
    expect(f!.metrics.allocationFailures).toBe(1);
    expect(f!.evidence.find((e) => e.highlight === "vmalloc error")!.text).toContain("vmalloc error: size 475136");
    expect(f!.mechanism).toMatch(/5\.15\.0-91-generic kernel \(4\.19\+\)/);
  });

  it("stays silent on a healthy bundle and on a small firewall", () => {
    expect(r.healthy).toEqual([]);
    expect(r.sos).toEqual([]);
  });
});
