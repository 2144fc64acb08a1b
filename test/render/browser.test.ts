/**
 * Opens report.html in Debian's Chromium (playwright-core, no downloaded browser), as
 * stack-notes.md says: launchPersistentContext on a fresh temporary profile with the listed flags.
 * Checks: no console error, no request but the file itself, the CSP meta, a visible timeline SVG,
 * no dialog and no script for the hostile report; saves screenshots to test-artifacts/.
 * Missing /usr/bin/chromium FAILS this test (CI installs it): it never skips.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/pipeline/analyze.js";
import { renderHtml } from "../../src/render/html.js";
import type { Report } from "../../src/report/schema.js";
import { ROOT, hostile, realistic } from "./helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts");
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const work = mkdtempSync(join(tmpdir(), "nfdiag-browser-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Visit {
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  xss: unknown;
  csp: string | null;
  svgBox: { width: number; height: number } | null;
}

async function visit(
  report: Report,
  name: string,
  opts: { colorScheme?: "light" | "dark"; width?: number; screenshot?: string; fullPage?: boolean } = {},
): Promise<Visit> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's Chromium (apt-get install chromium) to run the browser test; CI installs it.`);
  }
  const file = join(work, `${name}.html`);
  writeFileSync(file, renderHtml(report));
  const url = pathToFileURL(file).href;
  const profile = mkdtempSync(join(work, "profile-"));
  let ctx: BrowserContext | undefined;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      colorScheme: opts.colorScheme ?? "light",
      viewport: { width: opts.width ?? 1200, height: 900 },
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    const v: Visit = { requests: [], consoleErrors: [], pageErrors: [], dialogs: [], xss: undefined, csp: null, svgBox: null };
    page.on("request", (r) => v.requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error") v.consoleErrors.push(m.text());
    });
    page.on("pageerror", (e) => v.pageErrors.push(String(e)));
    page.on("dialog", (d) => {
      v.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url, { waitUntil: "load" });
    await page.waitForTimeout(150);
    v.xss = await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss);
    v.csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    const svg = page.locator("svg.timeline-svg");
    if ((await svg.count()) === 1 && (await svg.isVisible())) {
      const box = await svg.boundingBox();
      v.svgBox = box ? { width: box.width, height: box.height } : null;
    }
    if (opts.screenshot) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, opts.screenshot), fullPage: opts.fullPage ?? true });
    }
    return v;
  } finally {
    await ctx?.close();
  }
}

function expectClean(v: Visit, fileName: string): void {
  expect(v.consoleErrors).toEqual([]);
  expect(v.pageErrors).toEqual([]);
  expect(v.requests).toEqual([pathToFileURL(join(work, fileName)).href]);
  expect(v.csp).toBe("default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  expect(v.svgBox).not.toBeNull();
  expect(v.svgBox!.width).toBeGreaterThan(300);
  expect(v.svgBox!.height).toBeGreaterThan(100);
}

describe("report.html in Chromium", () => {
  it("realistic report: no error, no request but the file, CSP, visible timeline; screenshots", async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (CI installs it)`).toBe(true);
    const light = await visit(realistic(), "report", { screenshot: "report.png" });
    expectClean(light, "report.html");
    const dark = await visit(realistic(), "report-dark", { colorScheme: "dark", screenshot: "report-dark.png" });
    expectClean(dark, "report-dark.html");
    const phone = await visit(realistic(), "report-phone", { width: 390, screenshot: "report-phone.png", fullPage: false });
    expectClean(phone, "report-phone.html");
  });

  it("hostile report: no dialog, no script ran, nothing fetched", async () => {
    const v = await visit(hostile(), "hostile", { screenshot: "report-hostile.png" });
    expect(v.dialogs).toEqual([]);
    expect(v.xss).toBeUndefined();
    expectClean(v, "hostile.html");
  });

  it("hostile BUNDLE (payloads in log lines, rule comments, LOG prefixes, host name): rendered as text, no script ran", async () => {
    const b = join(work, "hostile-bundle");
    const put = (p: string, text: string): void => {
      mkdirSync(join(b, p, ".."), { recursive: true });
      writeFileSync(join(b, p), text);
    };
    const script = "<script>window.__xss=1;alert(1)</script>";
    const img = '"><img src=x onerror="window.__xss=2;alert(2)">';
    put("manifest.json", "{}\n");
    put("commands/uname_-a", `Linux </style>${script} 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16) x86_64 GNU/Linux\n`);
    put(
      "commands/dmesg",
      [
        "[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)",
        `[   10.000001] nf_conntrack: nf_conntrack: table full, dropping packet ${script}`,
        ...Array.from({ length: 300 }, (_, i) => `[   11.${String(i).padStart(6, "0")}] ${img}IN=lo OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=127.0.0.1 DST=127.0.0.1 LEN=38 TOS=0x00 PREC=0x00 TTL=64 ID=${i} DF PROTO=UDP SPT=4000 DPT=5140 LEN=18`),
      ].join("\n") + "\n",
    );
    put(
      "commands/iptables-save",
      [
        "# Generated by iptables-save v1.8.9 (nf_tables) on Sun Nov 22 07:00:00 2026",
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":FORWARD ACCEPT [0:0]",
        ":OUTPUT ACCEPT [0:0]",
        `-A INPUT -p udp -m comment --comment "</style>${script.replace(/"/g, "")}" -j LOG --log-prefix "${img.replace(/"/g, "'")}"`,
        "COMMIT",
      ].join("\n") + "\n",
    );
    const report = await analyze({ kind: "path", path: b });
    expect(report.findings.map((f) => f.id)).toEqual(expect.arrayContaining(["conntrack-table-full", "log-rule-flood"]));
    const html = renderHtml(report);
    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;window.__xss&#x3D;1;alert(1)&lt;/script&gt;"); // escaped, = as &#x3D; (Handlebars)
    const v = await visit(report, "hostile-bundle", { screenshot: "report-hostile-bundle.png" });
    expect(v.dialogs).toEqual([]);
    expect(v.xss).toBeUndefined();
    expectClean(v, "hostile-bundle.html");
  });
});
