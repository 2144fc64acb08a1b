/** The built CLI as a user runs it: exit codes, outputs, errors without stack traces. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { reportSchema } from "../../src/report/schema.js";
import { tarArchive } from "../helpers/tar-writer.js";

const CLI = resolve("dist/src/cli.js");
const SOSREPORT = resolve("samples/sosreport-debian12-conntrack-full/bundle.tar.gz");

function nfdiag(args: string[], opts: { cwd?: string; input?: string } = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: opts.cwd, input: opts.input, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  // CI builds before testing; a developer running vitest alone gets told what to do.
  if (!existsSync(CLI)) throw new Error("dist/src/cli.js is missing: run `npm run build` first");
});

describe("nfdiag analyze", () => {
  it("writes the three reports into ./nfdiag-<input name>/ and prints the verdict", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfdiag-cli-"));
    const r = nfdiag(["analyze", SOSREPORT], { cwd });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(cwd)).toEqual(["nfdiag-bundle"]);
    expect(readdirSync(join(cwd, "nfdiag-bundle")).sort()).toEqual(["report.html", "report.json", "report.md"]);
    const report = reportSchema.parse(JSON.parse(readFileSync(join(cwd, "nfdiag-bundle", "report.json"), "utf8")));
    expect(report.bundle.layout).toBe("sosreport");
    expect(r.stdout).toContain("kernel 6.1.0-56-amd64");
    expect(r.stdout).toContain(join(cwd, "nfdiag-bundle", "report.html"));
  });

  it("-o - -f md prints one format to standard output and writes nothing", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfdiag-cli-"));
    const r = nfdiag(["analyze", SOSREPORT, "-o", "-", "-f", "md", "--brief"], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout.split("\n").length).toBeLessThan(60); // assertion on the line count
    expect(r.stdout).toMatch(/conntrack/i);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it("--fail-on exits 3 when a finding reaches the severity", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfdiag-cli-"));
    expect(nfdiag(["analyze", SOSREPORT, "--fail-on", "high", "-q"], { cwd }).code).toBe(3);
  });

  it("reads a paste from standard input", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfdiag-cli-"));
    const paste = "> [ 1706.768684] nf_conntrack: nf_conntrack: table full, dropping packet\n> [ 1706.768701] nf_conntrack: nf_conntrack: table full, dropping packet\n";
    const r = nfdiag(["analyze", "-", "-o", "-", "-f", "json"], { cwd, input: paste });
    expect(r.code).toBe(0);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.bundle.layout).toBe("loose");
    expect(report.bundle.sources.find((s) => s.id === "dmesg")?.status).toBe("found");
  });

  it("an unreadable input exits 1 with one clear line, no stack trace", () => {
    const r = nfdiag(["analyze", "/nonexistent/bundle.tar.gz"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^nfdiag: cannot read \/nonexistent\/bundle\.tar\.gz: no such file or directory\n  next step: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a truncated archive gives a partial report and a precise warning", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfdiag-cli-"));
    const gz = gzipSync(
      tarArchive([
        { name: "x/commands/dmesg", data: "[ 1.0] nf_conntrack: nf_conntrack: table full, dropping packet\n" },
        ...Array.from({ length: 30 }, (_, i) => ({ name: `x/files/f${i}`, data: "z".repeat(4000 + i) })),
      ]),
    );
    writeFileSync(join(cwd, "cut.tar.gz"), gz.subarray(0, Math.floor(gz.length * 0.6)));
    const r = nfdiag(["analyze", "cut.tar.gz", "-o", "-", "-f", "json"], { cwd });
    expect(r.code).toBe(0);
    const report = reportSchema.parse(JSON.parse(r.stdout));
    expect(report.warnings.map((w) => w.code)).toContain("archive-truncated");
    expect(report.findings.map((f) => f.id)).toContain("conntrack-table-full");
  });

  it("usage errors exit 2", () => {
    expect(nfdiag(["analyze"]).code).toBe(2);
    expect(nfdiag(["analyze", SOSREPORT, "-f", "pdf"]).code).toBe(2);
    expect(nfdiag(["analyze", SOSREPORT, "-o", "-"]).code).toBe(2);
    expect(nfdiag(["frobnicate"]).code).toBe(2);
  });
});

describe("other commands", () => {
  it("sources lists found, absent and skipped sources with the path used", () => {
    const r = nfdiag(["sources", SOSREPORT]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^layout: sosreport \(root sosreport-labvm-2026-11-22-hmafrzq\/\)/);
    expect(r.stdout).toMatch(/\ndmesg\s+found\s+\d+\s+sos_commands\/kernel\/dmesg/);
    expect(r.stdout).toMatch(/\nproc-stat-nf_conntrack\s+found\s+\d+\s+proc\/242\/net\/stat\/nf_conntrack/);
  });

  it("rules lists every analyzer and explain prints one's docs", () => {
    const rules = JSON.parse(nfdiag(["rules", "--json"]).stdout) as { id: string }[];
    expect(rules.map((r) => r.id)).toContain("conntrack-table-full");
    const explain = nfdiag(["explain", "conntrack-table-full"]);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/^conntrack-table-full — /);
    expect(explain.stdout).toContain("Mechanism:");
    expect(nfdiag(["explain", "no-such-rule"]).code).toBe(2);
  });

  it("schema prints the JSON Schema of report.json", () => {
    const schema = JSON.parse(nfdiag(["schema"]).stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["schemaVersion", "findings", "timeline", "bundle"]));
  });

  it("collector writes the script", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfdiag-cli-"));
    const r = nfdiag(["collector", "-o", "c.sh"], { cwd });
    expect(r.code).toBe(0);
    expect(readFileSync(join(cwd, "c.sh"), "utf8")).toMatch(/^#!\/bin\/sh/);
  });

  it("--version prints the package version", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { version: string };
    expect(nfdiag(["--version"]).stdout.trim()).toBe(pkg.version);
  });
});
