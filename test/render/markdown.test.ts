import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/render/markdown.js";
import { PAYLOADS, hostile, huge, realistic } from "./helpers.js";

/** Markdown with fenced blocks and code spans removed: what a renderer would parse as syntax. */
function outsideCode(md: string): string {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of md.split("\n")) {
    const m = /^(`{3,})/.exec(line);
    if (fence === null && m) {
      fence = m[1]!;
      continue;
    }
    if (fence !== null) {
      if (line.trim() === fence) fence = null;
      continue;
    }
    lines.push(line);
  }
  // drop code spans: a run of N backticks up to the next run of exactly N backticks
  return lines.join("\n").replace(/(?<!\\)(`+)([\s\S]*?[^`])\1(?!`)/g, "");
}

/** Characters that must never appear unescaped outside code in bundle-derived text. */
function unescaped(text: string, chars: string): string[] {
  const bad: string[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (!chars.includes(c)) continue;
    let bs = 0;
    for (let j = i - 1; j >= 0 && text[j] === "\\"; j--) bs++;
    if (bs % 2 === 0) bad.push(text.slice(Math.max(0, i - 30), i + 30));
  }
  return bad;
}

describe("renderMarkdown: realistic report", () => {
  const r = realistic();
  const md = renderMarkdown(r);

  it("starts with the verdict and root cause", () => {
    const lines = md.split("\n"); // the text split into lines; not a test call
    expect(lines[0]).toBe("## nfdiag: CRITICAL — confidence 91%");
    expect(md).toContain("nf\\_conntrack was loaded by accident at 14:38:35");
    expect(md).toContain("**Root cause:** nf\\_conntrack loaded by accident: no rule needs it (`conntrack-loaded-unused`) → explains Conntrack table full: new connections dropped (`conntrack-table-full`)");
    expect(md).toContain("**Host:** `db-prod-07.example.internal`");
  });

  it("lists ranked fixes with fenced commands, persist, verify, roll back and risk", () => {
    const i1 = md.indexOf("#### 1. Unload nf\\_conntrack");
    const i2 = md.indexOf("#### 2. Raise nf\\_conntrack\\_max");
    expect(i1).toBeGreaterThan(0);
    expect(i2).toBeGreaterThan(i1);
    expect(md).toContain("```sh\nmodprobe -r iptable_nat nf_nat_ipv4 nf_nat nf_conntrack_ipv4 nf_defrag_ipv4 nf_conntrack\n```");
    expect(md).toContain("```sh\ncat > /etc/modprobe.d/nfdiag-no-conntrack.conf <<'EOF'\n");
    for (const s of ["Run:", "Make it persistent:", "Verify:", "Roll back:", "**Risk:**"]) expect(md).toContain(s);
    expect(md.indexOf("### Fixes")).toBeLessThan(md.indexOf("### Findings"));
  });

  it("shows findings with evidence paths and lines, excerpts in fences, rule-outs and reasons", () => {
    expect(md).toContain("2. `commands/dmesg:1871` (dmesg) — matched `nf_conntrack version 0.5.0` — The module loaded 14 s after that command");
    expect(md).toContain("`commands/iptables-save:1–6`");
    expect(md).toContain("```\n*nat\n:PREROUTING ACCEPT [0:0]");
    expect(md).toMatch(/\*\*Evidence\*\* \(14 from the bundle, 6 more in report\.json\)/);
    expect(md).toContain("**Would rule it out:**");
    expect(md).toContain("- `+0.35` Module loaded");
    expect(md).toContain("**Caused by:** nf\\_conntrack loaded by accident");
  });

  it("has a timeline excerpt and the bundle sources as GFM tables", () => {
    expect(md).toContain("| Time | Class | Event | Where |\n|---|---|---|---|\n");
    expect(md).toContain("| 2025-11-20 14:38:35 +01:00 | module-load | **likely-trigger** `[1499186.000000] nf_conntrack version 0.5.0 (65536 buckets, 262144 max)` | `commands/dmesg:1871` |");
    expect(md).toContain("| `conntrack-dump` | skipped | `commands/conntrack_-L_-o_extended.gz` | collector timeout after 30 s (262144 entries) |");
  });

  it("emits no HTML and stays within a ticket comment", () => {
    expect(unescaped(outsideCode(md), "<>")).toEqual([]);
    expect(md.length).toBeLessThan(60_000);
    expect(md.endsWith("\n")).toBe(true);
  });
});

describe("renderMarkdown: hostile report", () => {
  const md = renderMarkdown(hostile());
  const brief = renderMarkdown(hostile(), { brief: true });
  for (const [name, out] of [["full", md], ["brief", brief]] as const) {
    it(`${name}: no HTML, links, emphasis or stray table pipes from the bundle`, () => {
      const prose = outsideCode(out);
      // Emphasis and links from the payload must arrive escaped (HTML, pipes, brackets: below).
      for (const bad of [/(?<!\\)\*\*bold/, /(?<!\\)_em/, /(?<!\\)\]\(javascript:/, /\{\{7\*7\}\}/]) expect(prose).not.toMatch(bad);
      // Outside code and table rows, none of these may appear unescaped (the templates use none).
      for (const line of prose.split("\n")) {
        if (line.startsWith("|")) continue;
        expect(unescaped(line, "<>[]|&@`"), line).toEqual([]);
      }
      expect(out).not.toContain("\x1b");
      expect(out).toContain("{{7\\*7}}");
    });
  }
  it("full: every table row has exactly its columns", () => {
    for (const line of outsideCode(md).split("\n").filter((l) => l.startsWith("|"))) {
      const pipes = line.length - line.replace(/(?<!\\)\|/g, "").length;
      expect(pipes, line).toBe(5);
    }
  });
  it("full: payloads inside code are fenced with longer fences", () => {
    expect(md).toContain("````sh\niptables -D INPUT -m comment --comment \"<script>window.__xss=1;alert(1)</script>\"\necho '```");
    expect(md).toMatch(/```` *\n/);
    expect(md).toContain("**" + "Table full on \\<script\\>window.\\_\\_xss=1;alert(1)\\</script\\> {{7\\*7}} \\| a \\| b \\| \\| --- \\| --- \\| \\[link\\](javascript:alert(1)) \\*\\*bold\\*\\* \\_em\\_ # h**");
    expect(PAYLOADS.ticks).toContain("```");
  });
});

describe("renderMarkdown: brief", () => {
  it("is under 60 lines with verdict, top 3 fixes and findings", () => {
    for (const r of [realistic(), hostile(), huge()]) {
      const md = renderMarkdown(r, { brief: true });
      expect(md.split("\n").length).toBeLessThan(60); // assertion on the line count
      expect(md).toMatch(/^\*\*nfdiag: CRITICAL\*\* \(confidence 91%\)/);
    }
    const md = renderMarkdown(realistic(), { brief: true });
    expect(md).toContain("1. **Unload nf\\_conntrack and keep it from loading again** (92% likely to cure;");
    expect(md).toContain("```sh\nmodprobe -r iptable_nat");
    expect(md).toContain("3. **Stop tracking PostgreSQL traffic");
    expect(md).not.toContain("4. **");
    expect(md).toContain("- CRITICAL 97% — Conntrack table full: new connections dropped (`conntrack-table-full`) — `commands/dmesg:");
  });
});

describe("renderMarkdown: huge report", () => {
  it("stays under 60,000 characters", () => {
    const md = renderMarkdown(huge());
    expect(md.length).toBeLessThan(60_000);
    expect(md).toMatch(/more findings in report\.json/);
  });
});
