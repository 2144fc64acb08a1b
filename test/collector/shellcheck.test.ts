import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { SCRIPT } from "./harness.js";

describe("nfdiag-collect.sh static checks", () => {
  it("passes shellcheck -s sh", () => {
    const r = spawnSync("shellcheck", ["-s", "sh", SCRIPT], { encoding: "utf8" });
    if (r.error) {
      throw new Error(`shellcheck is required for this test and was not found (${r.error.message}): apt-get install shellcheck`);
    }
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("parses under sh -n in dash, busybox and bash", () => {
    for (const sh of [["dash"], ["busybox", "sh"], ["bash"]]) {
      const r = spawnSync(sh[0]!, [...sh.slice(1), "-n", SCRIPT], { encoding: "utf8" });
      expect(r.error, `${sh.join(" ")} missing`).toBeUndefined();
      expect(r.status, `${sh.join(" ")}: ${r.stderr}`).toBe(0);
    }
  });

  it("prints usage for --help and rejects unknown arguments", () => {
    const help = spawnSync("sh", [SCRIPT, "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("--no-conntrack-table");
    const bad = spawnSync("sh", [SCRIPT, "--bogus"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown argument: --bogus");
  });
});
