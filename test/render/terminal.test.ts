import { describe, expect, it } from "vitest";
import { renderTerminalSummary } from "../../src/render/terminal.js";
import { hostile, realistic } from "./helpers.js";

const outputs = ["nfdiag-out/report.html", "nfdiag-out/report.md", "nfdiag-out/report.json"];

describe("renderTerminalSummary", () => {
  it("fits one screen: verdict, top 3 fixes with their first command, outputs", () => {
    const out = renderTerminalSummary(realistic(), { outputs, color: false });
    const lines = out.trimEnd().split("\n"); // the text split into lines; not a test call
    expect(lines.length).toBeLessThanOrEqual(30);
    // commands are never cut (they are meant to be copied); everything else fits 80 columns
    expect(lines.filter((l) => !l.startsWith("   $ ")).every((l) => [...l].length <= 80)).toBe(true);
    expect(out).not.toContain("\x1b");
    expect(lines[0]).toBe("nfdiag 0.1.0 · db-prod-07.example.internal, kernel 3.10.0-1160.119.1.el7.x86_64");
    expect(out).toContain(" CRITICAL   confidence 91%");
    expect(out).toContain("1. Unload nf_conntrack and keep it from loading again (92%)");
    expect(out).toContain("   $ modprobe -r iptable_nat nf_nat_ipv4 nf_nat nf_conntrack_ipv4 nf_defrag_ipv4 nf_conntrack\n");
    expect(out).toContain("   $ sysctl -w net.netfilter.nf_conntrack_max=1048576\n     (+1 more line in the report)");
    expect(out).toContain("3. Stop tracking PostgreSQL traffic");
    expect(out).not.toContain("4. ");
    expect(out).toContain("…and 2 more");
    for (const o of outputs) expect(out).toContain(`  ${o}`);
  });

  it("colours only when asked", () => {
    const out = renderTerminalSummary(realistic(), { outputs, color: true });
    expect(out).toContain("\x1b[1;31;7m CRITICAL \x1b[0m");
    expect(out.replace(/\x1b\[[0-9;]*m/g, "")).toBe(renderTerminalSummary(realistic(), { outputs, color: false }));
  });

  it("strips escape sequences and control characters from bundle text", () => {
    const r = hostile();
    r.bundle.hostname = "host\x1b]0;pwned\x07\x1b[2J\x1b[31mred";
    r.fixes[0]!.commands[0] = "rm -rf /\x1b[8m hidden\r\x1b[0m";
    const out = renderTerminalSummary(r, { outputs, color: false });
    expect(out).not.toContain("\x1b");
    expect(out).not.toContain("\x07");
    expect(out).not.toContain("\r");
    expect(out).toContain("hostred");
  });
});
