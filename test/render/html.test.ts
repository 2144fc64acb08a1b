import { describe, expect, it } from "vitest";
import { renderHtml, HTML_MAX_BYTES } from "../../src/render/html.js";
import { findPackageRoot } from "../../src/render/templates.js";
import { join } from "node:path";
import { ALL_PAYLOADS, PAYLOADS, ROOT, hostile, huge, realistic } from "./helpers.js";

const CSP = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`;

/** Text content of the HTML with tags removed and the common entities decoded. */
function textOf(html: string): string {
  return html
    .replace(/<style>[\s\S]*?<\/style>/, "")
    .replace(/<[^>]+>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#x60;/g, "`")
    .replace(/&#x3D;/g, "=")
    .replace(/&amp;/g, "&");
}

describe("renderHtml: realistic report", () => {
  const r = realistic();
  const html = renderHtml(r);
  const text = textOf(html);

  it("is one self-contained document with the CSP and no external reference", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain(CSP);
    expect(html).not.toMatch(/<script|<link|<iframe|<object|<embed|<img|@import|url\(/i);
    expect(html).not.toMatch(/\b(?:src|href)="(?:https?:|\/\/)/i);
    // every href is an in-page anchor
    for (const m of html.matchAll(/href="([^"]*)"/g)) expect(m[1]).toMatch(/^#[A-Za-z0-9_-]+$/);
    expect(html).toContain("prefers-color-scheme: dark");
    expect(html).toContain("@media print");
    expect(html).toContain('name="viewport"');
  });

  it("puts the verdict first, then fixes, findings, timeline, bundle", () => {
    const order = ['id="verdict"', 'id="fixes"', 'id="findings"', 'id="timeline"', 'id="bundle"'].map((s) => html.indexOf(s));
    expect(order.every((v) => v > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const verdict = html.slice(order[0], order[1]);
    expect(verdict).toContain("Critical");
    expect(verdict).toContain("91%");
    expect(textOf(verdict)).toContain("nf_conntrack was loaded by accident at 14:38:35");
    expect(textOf(verdict)).toContain("nf_conntrack loaded by accident: no rule needs it");
    expect(verdict).toContain('href="#finding-1-conntrack-loaded-unused"');
  });

  it("shows the ranked fixes with copy-ready commands in pre blocks", () => {
    const fixes = html.slice(html.indexOf('id="fixes"'), html.indexOf('id="findings"'));
    const titles = r.fixes.map((f) => fixes.indexOf(f.title.replace(/'/g, "&#x27;")));
    expect(titles.every((i) => i > 0)).toBe(true);
    expect([...titles].sort((a, b) => a - b)).toEqual(titles);
    expect(fixes).toContain("<pre><code>modprobe -r iptable_nat nf_nat_ipv4 nf_nat nf_conntrack_ipv4 nf_defrag_ipv4 nf_conntrack</code></pre>");
    expect(fixes).toContain("sysctl -w net.netfilter.nf_conntrack_max&#x3D;1048576\necho 262144 &gt; /sys/module/nf_conntrack/parameters/hashsize");
    for (const label of ["Run", "Make it persistent", "Verify", "Roll back", "Risk"]) expect(fixes).toContain(label);
    expect(textOf(fixes)).toContain("install nf_conntrack /bin/false");
  });

  it("shows each finding with evidence paths, lines, marked highlights, rule-outs, reasons and chain", () => {
    for (const f of r.findings) expect(text).toContain(f.mechanism.slice(0, 60));
    expect(html).toContain('<code class="path">commands/dmesg:1871</code>');
    expect(html).toContain('<code class="path">commands/iptables-save:1–6</code>');
    expect(html).toMatch(/<pre class="excerpt"><code>\[ *[\d.]+\] <mark>nf_conntrack: table full, dropping packet<\/mark><\/code><\/pre>/);
    expect(html).toContain("<mark>drop&#x3D;48211</mark> early_drop&#x3D;0");
    expect(text).toContain("A container runtime, kube-proxy or a NAT/masquerade rule");
    expect(html).toContain('<span class="delta">+0.35</span>');
    expect(html).toContain('<span class="delta neg">−0.02</span>');
    expect(text).toMatch(/Caused by\s*nf_conntrack loaded by accident/);
    expect(text).toMatch(/Explains\s*Conntrack table full/);
    // 14 evidence items, 12 shown
    expect(text).toContain("2 more evidence items left out here");
  });

  it("draws the timeline SVG and the event table", () => {
    expect(html).toMatch(/<svg[^>]*class="timeline-svg"/);
    expect(html).toContain("first symptom 14:41:02");
    expect(html).toContain("likely trigger 14:38:35");
    expect(html).toContain("collected 15:20:12");
    expect(text).toContain("Events per minute by class, wall clock (UTC+01:00)");
    const rows = html.match(/<tr[^>]*>\s*<td class="t">/g) ?? [];
    expect(rows.length).toBe(r.timeline.events.length);
    expect(text).toContain(`${r.timeline.events.length} of ${r.timeline.events.length} events shown`);
    expect(html).toContain('<span class="markbadge m-first-symptom">first symptom</span>');
  });

  it("lists the bundle inventory, warnings and tool version", () => {
    const inv = textOf(html.slice(html.indexOf('id="bundle"')));
    for (const s of ["db-prod-07.example.internal", "3.10.0-1160.119.1.el7.x86_64", "CentOS Linux 7 (Core)", "2025-11-20 15:20:12 +01:00"]) expect(inv).toContain(s);
    expect(inv).toContain("collector timeout after 30 s (262144 entries)");
    expect(inv).toContain("nft is not installed (iptables-legacy host)");
    expect(inv).toMatch(/Sources found\s*14/);
    expect(inv).toMatch(/Absent\s*3/);
    expect(inv).toContain("cut at the 64 MiB per-file cap");
    expect(inv).toContain("syslog-year-inferred");
    expect(inv).toContain("nfdiag 0.1.0");
  });

  it("stays small", () => {
    expect(Buffer.byteLength(html)).toBeLessThan(400_000);
  });
});

describe("renderHtml: hostile report", () => {
  const html = renderHtml(hostile());
  it("renders every payload as text", () => {
    expect(html).not.toMatch(/<script|<img|<svg onload|onerror=|onload=|<\/style><script/i);
    expect(html.match(/<\/style>/g)?.length).toBe(1);
    expect(html.match(/<svg/g)?.length).toBe(1);
    expect(html).toContain("{{7*7}}");
    expect(html).not.toContain("\x1b");
    const text = textOf(html);
    expect(text).toContain(PAYLOADS.script);
    expect(text).toContain(PAYLOADS.img);
    expect(text).toContain("&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;".replace(/&lt;/g, "<").replace(/&gt;/g, ">"));
    // the highlight is split in code and each part escaped
    expect(html).toContain("<mark>&lt;script&gt;window.__xss&#x3D;1;alert(1)&lt;/script&gt;</mark>");
  });
  it("escapes in attributes too (hrefs are generated anchors only)", () => {
    for (const m of html.matchAll(/(?:href|id)="([^"]*)"/g)) expect(m[1]).toMatch(/^#?[A-Za-z0-9_-]+$/);
  });
  it("shows control characters as control pictures", () => {
    expect(ALL_PAYLOADS).toContain("\x1b");
    expect(html).toContain("␛[31mred␛[0m␇bell");
  });
});

describe("renderHtml: huge report", () => {
  it("stays under 2 MB and says what was left out", () => {
    const html = renderHtml(huge());
    expect(Buffer.byteLength(html)).toBeLessThan(HTML_MAX_BYTES);
    const text = textOf(html);
    expect(text).toMatch(/more evidence items left out here/);
    expect(text).toMatch(/100,000 events shown; [\d,]+ left out here/);
    expect(text).toMatch(/more findings left out here/);
    expect(text).toContain("…");
    expect(html).toMatch(/<svg[^>]*class="timeline-svg"/);
  });
});

describe("templates", () => {
  it("finds the package root from src/ and from dist/src/", () => {
    expect(findPackageRoot()).toBe(ROOT);
    expect(findPackageRoot(join(ROOT, "dist", "src", "render"))).toBe(ROOT);
  });
});
