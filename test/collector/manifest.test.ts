/**
 * manifest.json written by the collector parses with the zod schema; the parser never throws and
 * keeps what validates.
 */
import { describe, expect, it } from "vitest";
import { create, emptyManifest, schema, validateManifest } from "../../src/parsers/collector-manifest.js";
import { parseText } from "../../src/parsers/types.js";
import { ALL_MODULES, SHELLS, runCollector } from "./harness.js";

const ctx = { path: "nfdiag-x/manifest.json" };

describe("collector manifest", () => {
  it("a real collector run (busybox sh, tricky strings) parses with the schema, no warnings", () => {
    const r = runCollector({
      shell: SHELLS["busybox sh"]!,
      loaded: ALL_MODULES,
      netns: ["ns1"],
      args: ["--netns", "ns1"],
      // a control character, quotes, a backslash and UTF-8 end up in stderr/paths/strings
      files: { "/etc/modprobe.d/we\"ird\\na\tme é.conf": "options nf_conntrack hashsize=1\n" },
    });
    expect(r.status, r.stderr).toBe(0);
    const text = r.files.get("manifest.json")!.toString("utf8");
    const res = parseText(create, text, ctx);
    expect(res.warnings).toEqual([]);
    const m = res.value;
    expect(m.collector).toBe("nfdiag-collect");
    expect(m.manifest_version).toBe(1);
    expect(m.args).toContain("--root");
    expect(m.start.epoch).toBeLessThanOrEqual(m.end.epoch);
    expect(m.start.utc).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(m.files.some((f) => f.path === "/etc/modprobe.d/we\"ird\\na\tme é.conf" && f.status === "copied")).toBe(true);
    expect(m.files.find((f) => f.path === "/proc/net/nf_conntrack")).toMatchObject({ status: "absent", stored: null });
    for (const f of m.files.filter((x) => x.status === "copied")) {
      expect(r.files.has(f.stored!), f.stored!).toBe(true);
    }
    for (const c of m.commands.filter((x) => x.stored)) expect(r.files.has(c.output), c.output).toBe(true);
    expect(schema.safeParse(JSON.parse(text)).success).toBe(true);
  });

  it("invalid JSON gives a warning and an empty manifest, never a throw", () => {
    const res = parseText(create, '{"collector": "nfdiag-collect",\n', ctx);
    expect(res.value).toEqual(emptyManifest());
    expect(res.warnings).toHaveLength(1);
    expect(res.warnings[0]!.message).toMatch(/^collector manifest is not valid JSON/);
    expect(parseText(create, "[1,2]", ctx).warnings[0]!.message).toMatch(/not a JSON object/);
  });

  it("a schema mismatch keeps every field and list element that validates", () => {
    const good = emptyManifest();
    good.collector = "nfdiag-collect";
    good.host = "h1";
    const cmd = {
      output: "commands/dmesg", argv: ["dmesg"], netns: null, derived: false, skipped: false, skip_reason: null,
      exit_code: 0, timed_out: false, duration_ms: 5, bytes: 10, stored_bytes: 10, truncated: false,
      compressed: false, stored: true, stderr: null,
    };
    const raw = {
      ...good,
      kernel: 42, // wrong type
      commands: [cmd, { ...cmd, output: 7 }],
      modules: { ...good.modules, support: "weird", state: { nf_tables: { loaded: true, evidence: "x" }, bad: 1 } },
      extra_future_field: { a: 1 },
    };
    delete (raw as Record<string, unknown>)["files"];
    const res = validateManifest(raw, ctx.path);
    expect(res.value.host).toBe("h1");
    expect(res.value.kernel).toBe("");
    expect(res.value.commands).toEqual([cmd]);
    expect(res.value.files).toEqual([]);
    expect(res.value.modules.support).toBe("unknown");
    expect(res.value.modules.state).toEqual({ nf_tables: { loaded: true, evidence: "x" } });
    expect((res.value as Record<string, unknown>)["extra_future_field"]).toEqual({ a: 1 });
    const messages = res.warnings.map((w) => w.message);
    expect(messages[0]).toMatch(/does not match the expected schema \(5 problem\(s\)\)/);
    expect(messages).toContain("kernel: Invalid input: expected string, received number");
    expect(messages).toContain("files: missing");
    expect(messages.some((x) => x.startsWith("commands[1] dropped: output:"))).toBe(true);
    expect(messages.some((x) => x.startsWith("modules.state.bad dropped"))).toBe(true);
    expect(messages.some((x) => x.startsWith("modules.support:"))).toBe(true);
  });
});
