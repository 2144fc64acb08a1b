#!/usr/bin/env node
/**
 * Benchmark of the conntrack table parser on a big synthetic /proc/net/nf_conntrack.
 *
 * Run (either):
 *   npx tsx scripts/bench-conntrack-table.mjs [entries=2000000]     # imports src/ directly
 *   npm run build && node scripts/bench-conntrack-table.mjs [N]     # plain node, imports dist/
 *
 * Generates N entries into /tmp/nfdiag-ct-bench-<N>.txt from the real captured lines in
 * test/fixtures/conntrack/ (addresses and ports varied with a deterministic PRNG, a few heavy
 * sources), then prints lines/s and peak RSS of the parser, and compares with the classic
 * shell pipeline (`… | sort | uniq -c | sort -nr | head`, as in the seed note) on the same file.
 */
import { createReadStream, existsSync, readFileSync, statSync, writeSync, openSync, closeSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const N = Number(process.argv[2] ?? 2_000_000);
if (!Number.isInteger(N) || N <= 0 || N > 50_000_000) {
  console.error("usage: bench-conntrack-table.mjs [entries (1..50000000)]");
  process.exit(2);
}

async function loadParser() {
  const built = join(root, "dist/src/parsers/conntrack-table.js");
  if (existsSync(built)) return { mod: await import(pathToFileURL(built).href), from: "dist/ (compiled)" };
  try {
    return { mod: await import(pathToFileURL(join(root, "src/parsers/conntrack-table.ts")).href), from: "src/ via tsx" };
  } catch {
    console.error("No dist/ build and no TypeScript loader: run `npm run build` first, or use `npx tsx scripts/bench-conntrack-table.mjs`.");
    process.exit(2);
  }
}

/** mulberry32: small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Real lines (l3-prefix format) split around the fields we vary. */
function loadTemplates() {
  const files = ["nf_conntrack.6.18.txt", "nf_conntrack.sos-6.1.txt", "nf_conntrack.6.18-table-full.txt"];
  const templates = [];
  for (const f of files) {
    for (const line of readFileSync(join(root, "test/fixtures/conntrack", f), "utf8").split("\n")) {
      if (!line.startsWith("ipv4 ")) continue; // keep IPv4 templates: generated addresses are IPv4
      const tokens = line.split(" ");
      const idx = { src: [], dst: [], sport: [], dport: [] };
      tokens.forEach((t, i) => {
        const eq = t.indexOf("=");
        const k = eq > 0 ? t.slice(0, eq) : "";
        if (k in idx) idx[k].push(i);
      });
      if (idx.src.length === 2 && idx.dst.length === 2) templates.push({ tokens, idx });
    }
  }
  return templates;
}

function generate(path, n) {
  const rnd = prng(0x5eed);
  const templates = loadTemplates();
  const fd = openSync(path, "w");
  const heavy = ["10.9.0.11", "10.9.0.12", "10.9.0.13"];
  const servers = Array.from({ length: 50 }, (_, i) => `192.168.${i >> 4}.${(i * 7) & 255}`);
  const ports = [443, 80, 53, 8080, 5432, 6379, 9999];
  let buf = [];
  for (let i = 0; i < n; i++) {
    const t = templates[Math.floor(rnd() * templates.length)];
    const tok = t.tokens.slice();
    const r = rnd();
    const src = r < 0.2 ? heavy[Math.floor(rnd() * 3)] : `10.${(rnd() * 64) | 0}.${(rnd() * 256) | 0}.${(rnd() * 256) | 0}`;
    const dst = servers[Math.floor(rnd() * rnd() * servers.length)];
    const sport = 1024 + ((rnd() * 64000) | 0);
    const dport = ports[Math.floor(rnd() * rnd() * ports.length)];
    tok[t.idx.src[0]] = `src=${src}`;
    tok[t.idx.dst[0]] = `dst=${dst}`;
    tok[t.idx.src[1]] = `src=${dst}`;
    tok[t.idx.dst[1]] = `dst=${src}`;
    if (t.idx.sport.length === 2 && t.idx.dport.length === 2) {
      tok[t.idx.sport[0]] = `sport=${sport}`;
      tok[t.idx.dport[0]] = `dport=${dport}`;
      tok[t.idx.sport[1]] = `sport=${dport}`;
      tok[t.idx.dport[1]] = `dport=${sport}`;
    }
    buf.push(tok.join(" "));
    if (buf.length === 10000) {
      writeSync(fd, buf.join("\n") + "\n");
      buf = [];
    }
  }
  if (buf.length > 0) writeSync(fd, buf.join("\n") + "\n");
  closeSync(fd);
}

async function runParser(mod, path) {
  const parser = mod.create({ path: "proc/net/nf_conntrack" });
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = process.hrtime.bigint();
  let rest = "";
  let lineNo = 0;
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const text = rest + chunk;
    let start = 0;
    let nl = text.indexOf("\n", start);
    while (nl >= 0) {
      parser.push(text.slice(start, nl), ++lineNo);
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) parser.push(rest, ++lineNo);
  const result = parser.end();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  return { result, seconds, lines: lineNo, peak };
}

function shell(label, command) {
  const started = process.hrtime.bigint();
  const out = spawnSync("bash", ["-c", command], { encoding: "utf8", maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`\n${label} (${seconds.toFixed(2)} s):\n  $ ${command}`);
  console.log((out.stdout || out.stderr).trimEnd().split("\n").map((l) => `  ${l}`).join("\n"));
  return seconds;
}

const { mod, from } = await loadParser();
const path = `/tmp/nfdiag-ct-bench-${N}.txt`;
if (!existsSync(path)) {
  const t0 = Date.now();
  generate(path, N);
  console.log(`generated ${path} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
const size = statSync(path).size;
console.log(`input: ${N} entries, ${(size / 1e6).toFixed(0)} MB; parser from ${from}; node ${process.version}`);

const { result, seconds, lines, peak } = await runParser(mod, path);
const v = result.value;
console.log(`\nparser: ${lines} lines in ${seconds.toFixed(2)} s = ${Math.round(lines / seconds).toLocaleString("en")} lines/s, ${(size / 1e6 / seconds).toFixed(0)} MB/s, peak RSS ${(peak / 1048576).toFixed(0)} MiB`);
console.log(`  entries ${v.entries}, unparsable ${v.unparsable.count}, approximate maps: ${v.approximate}, warnings ${result.warnings.length}`);
console.log(`  top sources: ${v.topSources.items.slice(0, 5).map((i) => `${i.key}=${i.count}${i.overcount ? `(±${i.overcount})` : ""}`).join(" ")} (distinct ${v.topSources.approximate ? ">=" : ""}${v.topSources.distinctKeys})`);
console.log(`  top dports:  ${v.byDestinationPort.items.slice(0, 5).map((i) => `${i.key}=${i.count}`).join(" ")}`);
console.log(`  tcp states:  ${v.byTcpState.items.map((i) => `${i.key}=${i.count}`).join(" ")}`);

shell("shell, original source per line (awk first src=)", `LC_ALL=C awk '{for(i=1;i<=NF;i++) if (substr($i,1,4)=="src=") {print substr($i,5); break}}' ${path} | LC_ALL=C sort | uniq -c | sort -nr | head -5`);
shell("shell, seed-003 style fixed column (cut -d' ' -f10: wrong for padded /proc lines)", `cut -d' ' -f10 ${path} | cut -d= -f2 | LC_ALL=C sort | uniq -c | sort -nr | head -5`);
