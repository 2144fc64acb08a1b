import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { collectorScriptPath, runCollector, writeCollector } from "../../src/collector/run.js";
import { SCRIPT } from "./harness.js";

describe("collector runner", () => {
  it("finds the script next to package.json", () => {
    expect(collectorScriptPath()).toBe(SCRIPT);
  });

  it("writes the script out, executable and identical", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfdiag-writecollector-"));
    const file = join(dir, "nfdiag-collect.sh");
    await expect(writeCollector(file)).resolves.toBe(file);
    expect(readFileSync(file, "utf8")).toBe(readFileSync(SCRIPT, "utf8"));
    expect(statSync(file).mode & 0o777).toBe(0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the script and resolves with its exit code", async () => {
    await expect(runCollector(["--bogus-option-for-test"])).resolves.toBe(2);
  });
});
