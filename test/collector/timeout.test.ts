/**
 * A hanging command must not hang the collector: it is killed at --timeout, recorded as timed
 * out, and the whole run stays inside --max-seconds.
 */
import { describe, expect, it } from "vitest";
import { schema } from "../../src/parsers/collector-manifest.js";
import { ALL_MODULES, SHELLS, runCollector } from "./harness.js";

const METHODS: Record<string, Record<string, string>> = {
  "GNU timeout": {},
  "background-kill watcher": { NFDIAG_TIMEOUT_METHOD: "watcher" },
};

describe("collector timeouts", () => {
  for (const [method, env] of Object.entries(METHODS)) {
    it(`kills a hanging command at --timeout and records it (${method}, dash)`, () => {
      const r = runCollector({
        shell: SHELLS["dash"]!,
        loaded: ALL_MODULES,
        args: ["--timeout", "2", "--netns", "none"],
        env: { ...env, NFDIAG_STUB_HANG: "nft list ruleset" },
      });
      expect(r.status, r.stderr).toBe(0);
      // the stub sleeps 30 s; 2 s timeout (+2 s kill grace at most) plus a ~1 s run
      expect(r.wallMs).toBeLessThan(9000);
      const m = schema.parse(r.manifest);
      expect(m.timeout_method).toBe(method === "GNU timeout" ? "gnu-timeout" : "watcher+setsid");
      const c = m.commands.find((x) => x.output === "commands/nft_list_ruleset")!;
      expect(c).toMatchObject({ skipped: false, timed_out: true, stored: false, bytes: 0 });
      expect(c.exit_code).not.toBe(0);
      expect(c.duration_ms).toBeGreaterThanOrEqual(1900);
      expect(c.duration_ms).toBeLessThan(6000);
      expect(m.warnings.some((w) => w.startsWith("command timed out after 2s: nft list ruleset"))).toBe(true);
      // the next commands still ran
      const next = m.commands.find((x) => x.output === "commands/nft_-j_list_ruleset")!;
      expect(next).toMatchObject({ skipped: false, timed_out: false, exit_code: 0 });
    });
  }

  it("stops starting commands when --max-seconds is spent", () => {
    const r = runCollector({
      shell: SHELLS["busybox sh"]!,
      loaded: ALL_MODULES,
      args: ["--timeout", "30", "--max-seconds", "2", "--netns", "none"],
      env: { NFDIAG_STUB_HANG: "iptables -V" },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.wallMs).toBeLessThan(8000);
    const m = schema.parse(r.manifest);
    expect(m.commands.find((x) => x.output === "commands/iptables_-V")).toMatchObject({ timed_out: true });
    const skipped = m.commands.filter((x) => x.skip_reason === "time budget of --max-seconds 2 exhausted");
    expect(skipped.map((x) => x.output)).toContain("commands/nft_list_ruleset");
    // Files read after the budget ran out are recorded as skipped, not read.
    const lateFiles = m.files.filter((f) => f.status === "skipped");
    expect(lateFiles.length).toBeGreaterThan(0);
    expect(lateFiles.every((f) => f.error === "time budget of --max-seconds 2 exhausted" && f.stored === null)).toBe(true);
    expect(r.files.has("manifest.json")).toBe(true);
  });
});
