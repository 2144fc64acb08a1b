/**
 * The same real bundle packed as .tar.gz, .tar.xz, .tar.zst, .zip, .tar, a folder and a zip holding a
 * .tar.xz gives the same `sources` listing and the same report.json, apart from the input name.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/pipeline/analyze.js";
import type { Report } from "../../src/report/schema.js";

const SAMPLE = resolve("samples/soundcloud-stateful/bundle.tar.gz");
const now = new Date("2026-11-22T12:00:00Z");
let dir: string;
let top: string;
const inputs: Record<string, string> = {};

/** What must not differ between containers: everything but the input name and container chain. */
function comparable(r: Report): unknown {
  const { bundle, generatedAt: _g, ...rest } = r;
  const { input: _i, container: _c, ...b } = bundle;
  return { ...rest, bundle: b, warnings: r.warnings.filter((w) => w.code !== "link-in-zip") };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nfdiag-containers-"));
  const folder = join(dir, "folder");
  mkdirSync(folder);
  execFileSync("tar", ["-xzf", SAMPLE, "-C", folder]);
  top = readdirSync(folder)[0]!;
  const tar = join(dir, "b.tar");
  execFileSync("tar", ["-cf", tar, "-C", folder, top]);
  execFileSync("sh", ["-c", `gzip -c "${tar}" > "${dir}/b.tar.gz" && xz -c "${tar}" > "${dir}/b.tar.xz" && zstd -q -c "${tar}" > "${dir}/b.tar.zst"`]);
  execFileSync("sh", ["-c", `cd "${folder}" && zip -q -r "${dir}/b.zip" "${top}"`]);
  execFileSync("zip", ["-q", "-j", join(dir, "nested.zip"), join(dir, "b.tar.xz")]);
  Object.assign(inputs, {
    "tar.gz": join(dir, "b.tar.gz"),
    "tar.xz": join(dir, "b.tar.xz"),
    "tar.zst": join(dir, "b.tar.zst"),
    zip: join(dir, "b.zip"),
    tar,
    folder,
    "zip holding tar.xz": join(dir, "nested.zip"),
  });
});

describe("one bundle, every container", () => {
  it("gives the same sources and the same report.json", async () => {
    const reports = new Map<string, Report>();
    for (const [kind, path] of Object.entries(inputs)) reports.set(kind, await analyze({ kind: "path", path }, { now }));
    const reference = reports.get("tar.gz")!;
    expect(reference.bundle.layout).toBe("nfdiag");
    expect(reference.bundle.sources.filter((s) => s.status === "found").length).toBeGreaterThan(20);
    expect(reference.bundle.container).toBe("gzip+tar");
    expect(reports.get("zip holding tar.xz")!.bundle.container).toBe("zip+xz+tar");
    for (const [kind, r] of reports) {
      // Paths differ only by the folder the nested zip adds: its member's name, b.tar.xz -> "b/".
      const json = JSON.stringify(comparable(r));
      const normalised = kind === "zip holding tar.xz" ? json.replaceAll(`"b/${top}/`, `"${top}/`).replaceAll(`b/${top}/`, `${top}/`) : json;
      expect(JSON.parse(normalised), `container ${kind}`).toEqual(comparable(reference));
    }
  });
});
