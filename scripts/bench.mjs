#!/usr/bin/env node
/**
 * End-to-end performance figures of the BUILT analyzer (dist/), printed beside shell baselines.
 *
 *   npm run bench                     # samples, 0.25/0.5/1 GB generated bundles (.tar.gz and .tar.xz),
 *                                     # top talkers, collector
 *   npm run bench -- --quick          # samples + 250 MB only
 *   options: --sizes 250m,1g  --runs N (default 2, best kept)  --no-xz  --no-samples  --no-collector
 *            --no-toptalkers  --no-build  --timeout S (analyzer time limit on generated bundles, default 300)
 *            --analyzer-runs N (full analyzer runs on generated bundles, default 1)
 * Beside the full analyzer, each generated bundle is also timed up to the facts (read, parse, facts,
 * merged kernel log; no analyzers) in a child process: the part of the cost that grows with the bundle.
 *
 * Each analyzer run is `node dist/src/cli.js analyze FILE -o OUTDIR -q` in a child process, timed
 * with /usr/bin/time (wall, peak RSS) or, without it, by polling /proc/<pid>/status VmHWM.
 * Baselines on the same file: `gzip -dc FILE | wc -l` (.gz) and `xz -T0 -dc FILE | wc -l` (.xz).
 * Bundles come from scripts/make-big-bundle.mjs into /tmp (reused when present).
 * All figures go to bench-results/<timestamp>.json (gitignored); a table is printed.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { makeBigBundle, parseSize } from "./make-big-bundle.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist/src/cli.js");

function parseArgs(argv) {
  const o = { sizes: ["250m", "0.5g", "1g"], runs: 2, bigRuns: 1, timeout: 300, xz: true, samples: true, collector: true, toptalkers: true, build: true, keep: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") o.sizes = ["250m"];
    else if (a === "--sizes") o.sizes = String(argv[++i]).split(",").filter(Boolean);
    else if (a === "--runs") o.runs = Math.max(1, Number(argv[++i]));
    else if (a === "--analyzer-runs") o.bigRuns = Math.max(1, Number(argv[++i]));
    else if (a === "--timeout") o.timeout = Math.max(1, Number(argv[++i]));
    else if (a === "--no-xz") o.xz = false;
    else if (a === "--no-samples") o.samples = false;
    else if (a === "--no-collector") o.collector = false;
    else if (a === "--no-toptalkers") o.toptalkers = false;
    else if (a === "--no-build") o.build = false;
    else if (a === "--no-keep") o.keep = false;
    else if (a === "--keep") o.keep = true;
    else {
      console.error(`bench: unknown argument ${a}\nusage: bench.mjs [--quick] [--sizes 250m,0.5g,1g] [--runs N] [--no-xz] [--no-samples] [--no-collector] [--no-toptalkers] [--no-build]`);
      process.exit(2);
    }
  }
  for (const s of o.sizes) if (!Number.isFinite(parseSize(s))) throw new Error(`bad size ${s}`);
  return o;
}

const hasTime = spawnSync("/usr/bin/time", ["-v", "true"], { stdio: "ignore" }).status === 0;

/** Runs a command once: wall seconds, peak RSS (KiB) of the process tree root, exit code, stdout. */
function runOnce(cmd, args, { shell = false, timeout = 0 } = {}) {
  return new Promise((resolve) => {
    const argv = shell ? ["bash", "-o", "pipefail", "-c", cmd] : [cmd, ...args];
    const useTime = hasTime && !shell;
    const full = useTime ? ["/usr/bin/time", "-f", "__TIME__ %e %M", ...argv] : argv;
    const started = process.hrtime.bigint();
    const child = spawn(full[0], full.slice(1), { stdio: ["ignore", "pipe", "pipe"], detached: timeout > 0 });
    let timedOut = false;
    const killer =
      timeout > 0
        ? setTimeout(() => {
            timedOut = true;
            try {
              process.kill(-child.pid, "SIGKILL"); // this child's own process group only
            } catch {
              /* gone */
            }
          }, timeout * 1000)
        : undefined;
    let stdout = "";
    let stderr = "";
    let hwm = 0;
    child.stdout.on("data", (d) => {
      if (stdout.length < 1 << 16) stdout += d;
    });
    child.stderr.on("data", (d) => {
      if (stderr.length < 1 << 16) stderr += d;
    });
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 20);
    child.on("close", (code) => {
      const wall = Number(process.hrtime.bigint() - started) / 1e9;
      if (poll) clearInterval(poll);
      if (killer) clearTimeout(killer);
      let rssKiB = hwm || undefined;
      const t = /__TIME__ ([\d.]+) (\d+)/.exec(stderr);
      if (t) rssKiB = Number(t[2]);
      resolve({ wall, rssKiB, code: timedOut ? "timeout" : code, timedOut, stdout, stderr: stderr.replace(/__TIME__.*\n?/, "").trim() });
    });
  });
}

/** Best (lowest wall time) of `runs` runs; RSS is the peak over all runs. */
async function best(runs, cmd, args, opts) {
  let b;
  let rss = 0;
  const walls = [];
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(cmd, args, opts);
    walls.push(Number(r.wall.toFixed(3)));
    if (r.rssKiB) rss = Math.max(rss, r.rssKiB);
    if (r.code !== 0) return { ...r, walls, rssMiB: rss ? rss / 1024 : undefined, failed: true, timedOut: r.timedOut ?? false };
    if (!b || r.wall < b.wall) b = r;
  }
  return { wall: b.wall, walls, rssMiB: rss ? rss / 1024 : undefined, stdout: b.stdout, code: 0 };
}

async function analyzerRun(file, runs, timeout = 0) {
  const out = `/tmp/nfdiag-bench-out-${process.pid}`;
  rmSync(out, { recursive: true, force: true });
  const r = await best(runs, process.execPath, [cli, "analyze", file, "-o", out, "-q"], { timeout });
  let verdict;
  try {
    verdict = JSON.parse(readFileSync(join(out, "report.json"), "utf8")).verdict;
  } catch {
    /* no report */
  }
  rmSync(out, { recursive: true, force: true });
  if (r.failed) console.error(`  analyzer ${r.timedOut ? `stopped after the ${timeout} s time limit` : `exited ${r.code}`} on ${file}${r.stderr ? `: ${r.stderr.split("\n")[0]}` : ""}`);
  return { ...r, verdict: typeof verdict === "string" ? verdict : verdict?.status ?? verdict?.level };
}

async function baseline(file, runs) {
  const isXz = file.endsWith(".xz");
  const cmd = isXz ? `xz -T0 -dc '${file}' | wc -l` : `gzip -dc '${file}' | wc -l`;
  const r = await best(runs, cmd, [], { shell: true });
  return { command: cmd.replace(`'${file}'`, "FILE"), wall: r.wall, walls: r.walls, lines: Number(r.stdout.trim()) };
}

const fmt = (n, d = 2) => (n === undefined || n === null || Number.isNaN(n) ? "-" : n.toFixed(d));
const mb = (n) => `${(n / 1e6).toFixed(0)} MB`;

function table(rows, headers) {
  const cells = [headers, ...rows.map((r) => headers.map((h) => String(r[h] ?? "")))];
  const widths = headers.map((_, i) => Math.max(...cells.map((c) => c[i].length)));
  return cells.map((c, j) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join("  ") + (j === 0 ? `\n${widths.map((w) => "-".repeat(w)).join("  ")}` : "")).join("\n");
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.build || !existsSync(cli)) {
    console.log("building dist/ (npm run build) …");
    const b = spawnSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "inherit" });
    if (b.status !== 0) process.exit(1);
  }
  const results = {
    startedAt: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memGiB: Number((totalmem() / 1024 ** 3).toFixed(1)),
    loadavgBefore: loadavg().map((x) => Number(x.toFixed(2))),
    runsPerFigure: o.runs,
    samples: [],
    generated: [],
    topTalkers: [],
    collector: undefined,
  };
  console.log(`node ${process.version}, ${results.cpus} CPUs, load average ${results.loadavgBefore.join(" ")}, best of ${o.runs} runs per figure`);

  if (o.samples) {
    const dirs = readdirSync(join(root, "samples")).sort();
    for (const d of dirs) {
      const dir = join(root, "samples", d);
      if (!statSync(dir).isDirectory()) continue;
      for (const f of readdirSync(dir).filter((x) => x.startsWith("bundle")).sort()) {
        const file = join(dir, f);
        const a = await analyzerRun(file, o.runs);
        const base = /\.(gz|tgz)$/.test(f) ? await baseline(file, o.runs) : /\.(xz|txz)$/.test(f) ? await baseline(file, o.runs) : undefined;
        const row = { sample: `${d}/${f}`, bytes: statSync(file).size, analyzer: { wall: a.wall, walls: a.walls, rssMiB: a.rssMiB, failed: a.failed ?? false }, baseline: base };
        results.samples.push(row);
        console.log(`  sample ${row.sample}: ${fmt(a.wall)} s, ${fmt(a.rssMiB, 0)} MiB${a.failed ? " (FAILED)" : ""}`);
      }
    }
  }

  for (const size of o.sizes) {
    const gz = `/tmp/nfdiag-big-${size}.tar.gz`;
    const xz = `/tmp/nfdiag-big-${size}.tar.xz`;
    let meta;
    const metaPath = `/tmp/nfdiag-big-${size}.json`;
    if (!existsSync(gz) || (o.xz && !existsSync(xz)) || !existsSync(metaPath)) {
      console.log(`generating ${size} bundle …`);
      meta = makeBigBundle({ size, bytes: parseSize(size), out: gz, format: o.xz ? "both" : "gz", seed: 0x5eed, keepDir: false });
    } else meta = JSON.parse(readFileSync(metaPath, "utf8"));
    for (const file of o.xz ? [gz, xz] : [gz]) {
      const a = await analyzerRun(file, o.bigRuns, o.timeout);
      const p = await best(o.runs, process.execPath, [join(root, "scripts/bench.mjs"), "--pipeline-child", file]);
      const base = await baseline(file, o.runs);
      const row = {
        size,
        file,
        format: file.endsWith(".xz") ? "xz" : "gz",
        fileBytes: statSync(file).size,
        contentBytes: meta.content,
        conntrackEntries: meta.conntrack.lines,
        rules: meta.rules.rules,
        kernLogLines: meta.kern.lines,
        analyzer: { wall: a.wall, walls: a.walls, rssMiB: a.rssMiB, failed: a.failed ?? false, timedOut: a.timedOut ?? false, verdict: a.verdict },
        pipeline: { wall: p.wall, walls: p.walls, rssMiB: p.rssMiB, detail: p.stdout?.trim() },
        baseline: base,
        ratio: a.failed ? undefined : a.wall / base.wall,
        pipelineRatio: p.wall / base.wall,
        secondsPerGB: a.failed ? undefined : a.wall / (meta.content / 1e9),
        pipelineSecondsPerGB: p.wall / (meta.content / 1e9),
      };
      results.generated.push(row);
      console.log(
        `  ${size} ${row.format}: analyzer ${a.timedOut ? `>${o.timeout}` : fmt(a.wall)} s (${fmt(a.rssMiB, 0)} MiB); read+parse+facts ${fmt(p.wall)} s (${fmt(p.rssMiB, 0)} MiB)  vs  ${base.command} ${fmt(base.wall)} s  → ratios ${fmt(row.ratio)} / ${fmt(row.pipelineRatio)}`,
      );
    }

    if (o.toptalkers) {
      const dump = `/tmp/nfdiag-big-${size}-nf_conntrack`;
      if (!existsSync(dump)) spawnSync("bash", ["-c", `tar -xzOf '${gz}' --wildcards '*/files/proc/net/nf_conntrack' > '${dump}'`], { stdio: "inherit" });
      const ours = await best(o.runs, process.execPath, [join(root, "scripts/bench.mjs"), "--toptalkers-child", dump]);
      const seed = `cat '${dump}' | cut -d ' ' -f 10 | cut -d '=' -f 2 | sort | uniq -c | sort -nr | head -n 10`;
      const seedRun = await best(o.runs, seed, [], { shell: true });
      const awk = `LC_ALL=C awk '{for(i=1;i<=NF;i++) if (substr($i,1,4)=="src=") {print substr($i,5); break}}' '${dump}' | LC_ALL=C sort | uniq -c | sort -nr | head -n 10`;
      const awkRun = await best(o.runs, awk, [], { shell: true });
      const row = {
        size,
        dumpBytes: statSync(dump).size,
        parser: { wall: ours.wall, walls: ours.walls, rssMiB: ours.rssMiB, top: ours.stdout.trim().split("\n").slice(0, 5) },
        seed003: { command: seed.replace(`'${dump}'`, "DUMP"), wall: seedRun.wall, walls: seedRun.walls, top: seedRun.stdout.trim().split("\n").slice(0, 5) },
        awkSort: { command: awk.replace(`'${dump}'`, "DUMP"), wall: awkRun.wall, walls: awkRun.walls, top: awkRun.stdout.trim().split("\n").slice(0, 5) },
      };
      results.topTalkers.push(row);
      console.log(`  top talkers ${size}: parser ${fmt(ours.wall)} s (${fmt(ours.rssMiB, 0)} MiB), seed-003 pipeline ${fmt(seedRun.wall)} s, awk|sort ${fmt(awkRun.wall)} s`);
      if (!o.keep) rmSync(dump, { force: true });
    }
  }

  if (o.collector) {
    if (process.getuid?.() !== 0) console.log("  collector: skipped (needs root)");
    else {
      const out = `/tmp/nfdiag-bench-collect-${process.pid}`;
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out, { recursive: true });
      const r = await runOnce("sh", [join(root, "src/collector/nfdiag-collect.sh"), "-o", out, "--sample-seconds", "0"]);
      const tarballs = readdirSync(out);
      const bytes = tarballs.reduce((n, f) => n + statSync(join(out, f)).size, 0);
      rmSync(out, { recursive: true, force: true }); // never left behind, never committed
      results.collector = { wall: r.wall, rssMiB: r.rssKiB ? r.rssKiB / 1024 : undefined, exit: r.code, tarballBytes: bytes };
      console.log(`  collector: ${fmt(r.wall)} s, exit ${r.code}, tarball ${mb(bytes)} (deleted)`);
    }
  }

  results.loadavgAfter = loadavg().map((x) => Number(x.toFixed(2)));
  results.finishedAt = new Date().toISOString();
  const dir = join(root, "bench-results");
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${results.startedAt.replace(/[:.]/g, "-")}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);

  console.log("\nGenerated bundles (analyzer = node dist/src/cli.js analyze FILE -o DIR -q, best wall time):");
  console.log(
    table(
      results.generated.map((g) => ({
        bundle: `${g.size} .tar.${g.format}`,
        content: mb(g.contentBytes),
        file: mb(g.fileBytes),
        "analyzer s": g.analyzer.timedOut ? `>${o.timeout}` : fmt(g.analyzer.wall),
        "RSS MiB": fmt(g.analyzer.rssMiB, 0),
        "read+parse+facts s": fmt(g.pipeline.wall),
        "its RSS MiB": fmt(g.pipeline.rssMiB, 0),
        baseline: g.format === "gz" ? "gzip -dc|wc -l" : "xz -T0 -dc|wc -l",
        "baseline s": fmt(g.baseline.wall),
        ratio: fmt(g.ratio),
        "r+p+f ratio": fmt(g.pipelineRatio),
        "r+p+f s/GB": fmt(g.pipelineSecondsPerGB),
      })),
      ["bundle", "content", "file", "analyzer s", "RSS MiB", "read+parse+facts s", "its RSS MiB", "baseline", "baseline s", "ratio", "r+p+f ratio", "r+p+f s/GB"],
    ),
  );
  if (results.topTalkers.length > 0) {
    console.log("\nTop talkers on the generated nf_conntrack:");
    console.log(
      table(
        results.topTalkers.map((t) => ({ dump: `${t.size} (${mb(t.dumpBytes)})`, "parser s": fmt(t.parser.wall), "parser RSS MiB": fmt(t.parser.rssMiB, 0), "seed-003 cut|sort s": fmt(t.seed003.wall), "awk|sort s": fmt(t.awkSort.wall), "vs seed-003": `${fmt(t.seed003.wall / t.parser.wall, 1)}x`, "vs awk|sort": `${fmt(t.awkSort.wall / t.parser.wall, 1)}x` })),
        ["dump", "parser s", "parser RSS MiB", "seed-003 cut|sort s", "awk|sort s", "vs seed-003", "vs awk|sort"],
      ),
    );
  }
  if (results.samples.length > 0) {
    console.log("\nSamples end to end (including Node start-up):");
    console.log(
      table(
        results.samples.map((s) => ({ sample: s.sample, bytes: String(s.bytes), "analyzer s": fmt(s.analyzer.wall), "RSS MiB": fmt(s.analyzer.rssMiB, 0), "gzip -dc|wc -l s": fmt(s.baseline?.wall, 3) })),
        ["sample", "bytes", "analyzer s", "RSS MiB", "gzip -dc|wc -l s"],
      ),
    );
  }
  if (results.collector) console.log(`\nCollector (sh src/collector/nfdiag-collect.sh -o DIR --sample-seconds 0, as root): ${fmt(results.collector.wall)} s, exit ${results.collector.exit}`);
  console.log(`\nload average before ${results.loadavgBefore.join(" ")}, after ${results.loadavgAfter.join(" ")}`);
  console.log(`figures written to ${path}`);
}

/**
 * Child mode: our conntrack parser over a dump, fed the way the analyzer feeds it: 1 MiB chunks,
 * two threads (ParallelTableFeeder) when the built worker exists, else the byte line splitter.
 */
async function topTalkersChild(path) {
  const { createReadStream } = await import("node:fs");
  const { ParallelTableFeeder, parallelTableAvailable } = await import(join(root, "dist/src/parsers/conntrack/parallel-table.js"));
  let feed, finish;
  if (parallelTableAvailable()) {
    const feeder = new ParallelTableFeeder("proc/net/nf_conntrack");
    feed = (chunk) => feeder.write(chunk);
    finish = () => feeder.end();
  } else {
    const { create } = await import(join(root, "dist/src/parsers/conntrack-table.js"));
    const { ByteLineSplitter } = await import(join(root, "dist/src/bundle/lines.js"));
    const parser = create({ path: "proc/net/nf_conntrack" });
    const splitter = new ByteLineSplitter((buf, start, end, n) => parser.pushBytes(buf, start, end, n));
    feed = (chunk) => splitter.write(chunk);
    finish = async () => (splitter.end(), parser.end());
  }
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    const wait = feed(chunk);
    if (wait) await wait;
  }
  const v = (await finish()).value;
  for (const i of v.topSources.items.slice(0, 10)) console.log(`${String(i.count).padStart(8)} ${i.key}`);
}

/** Child mode: the analysis up to the facts (read, parse, facts, merged kernel log), without the analyzers. */
async function pipelineChild(path) {
  const { loadBundle } = await import(join(root, "dist/src/pipeline/load.js"));
  const { factsFromLoaded } = await import(join(root, "dist/src/pipeline/facts-from-bundle.js"));
  const t0 = performance.now();
  const loaded = await loadBundle({ kind: "path", path });
  const t1 = performance.now();
  const facts = await factsFromLoaded(loaded);
  const n = facts.kernelMessages.length;
  const t2 = performance.now();
  console.log(`load ${((t1 - t0) / 1000).toFixed(2)} s, facts ${((t2 - t1) / 1000).toFixed(2)} s, ${n} kernel messages kept`);
}

if (process.argv[2] === "--toptalkers-child") await topTalkersChild(process.argv[3]);
else if (process.argv[2] === "--pipeline-child") await pipelineChild(process.argv[3]);
else await main();
