#!/usr/bin/env node
/**
 * Builds a large, deterministic nfdiag collector bundle for benchmarks.
 *
 *   npm run make-big-bundle -- --size 1g [--out FILE] [--format gz|xz|both] [--seed N]
 *
 * Sizes: 250m, 0.5g, 1g (decimal: 1g = 10^9 bytes of uncompressed content).
 * Starts from the real sample samples/soundcloud-stateful/bundle.tar.gz (its small files and its
 * manifest are kept) and replaces the big captures with lines derived from real captured ones
 * (test/fixtures/conntrack, test/fixtures/kernel-log, test/fixtures/rules), varied with a seeded PRNG:
 *   files/proc/net/nf_conntrack      ~60 % of the bytes (~2 M entries at 1g)
 *   commands/iptables-legacy-save    200 k rules at 1g
 *   files/var/log/kern.log           1 M lines at 1g
 *   files/var/log/syslog             the remaining bytes (kernel and daemon lines)
 * Every file is streamed to a work folder under /tmp (never held in memory), then packed with the
 * system tar (sorted, fixed mtime/owner) into gzip (`gzip -n -6`) or xz (`xz -T0 -1`). Same options,
 * same bytes. Default output: /tmp/nfdiag-big-<size>.tar.gz (never inside the repository).
 */
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

function usage(msg) {
  if (msg) console.error(`make-big-bundle: ${msg}`);
  console.error("usage: make-big-bundle.mjs --size 1g [--out FILE] [--format gz|xz|both] [--seed N] [--keep-dir]");
  process.exit(2);
}

export function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)b?$/i.exec(String(text).trim());
  if (!m) return NaN;
  const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase()];
  return Math.round(Number(m[1]) * mult);
}

function parseArgs(argv) {
  const o = { size: "1g", out: undefined, format: "gz", seed: 0x5eed, keepDir: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => argv[++i] ?? usage(`${a} needs a value`);
    if (a === "--size") o.size = next();
    else if (a === "--out") o.out = next();
    else if (a === "--format") o.format = next();
    else if (a === "--seed") o.seed = Number(next());
    else if (a === "--keep-dir") o.keepDir = true;
    else if (a === "-h" || a === "--help") usage();
    else usage(`unknown argument ${a}`);
  }
  o.bytes = parseSize(o.size);
  if (!Number.isFinite(o.bytes) || o.bytes < 1e6 || o.bytes > 20e9) usage(`bad --size ${o.size} (1m..20g)`);
  if (!["gz", "xz", "both"].includes(o.format)) usage(`bad --format ${o.format}`);
  return o;
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

/** Buffered line writer on a file descriptor; counts bytes and lines. */
class Out {
  constructor(path) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "w");
    this.parts = [];
    this.pending = 0;
    this.bytes = 0;
    this.lines = 0;
  }
  line(s) {
    this.parts.push(s);
    this.pending += s.length + 1;
    this.bytes += Buffer.byteLength(s) + 1;
    this.lines++;
    if (this.pending > 1 << 20) this.flush();
  }
  flush() {
    if (this.parts.length > 0) writeSync(this.fd, `${this.parts.join("\n")}\n`);
    this.parts = [];
    this.pending = 0;
  }
  close() {
    this.flush();
    closeSync(this.fd);
  }
}

const fixture = (...p) => join(root, "test/fixtures", ...p);
const readLines = (path) => (path.endsWith(".gz") ? gunzipSync(readFileSync(path)).toString("utf8") : readFileSync(path, "utf8")).split("\n");

// ---------------------------------------------------------------- conntrack

function conntrackTemplates() {
  const files = ["nf_conntrack.6.18.txt", "nf_conntrack.sos-6.1.txt", "nf_conntrack.6.18-table-full.txt"];
  const templates = [];
  for (const f of files) {
    for (const line of readLines(fixture("conntrack", f))) {
      if (!line.startsWith("ipv4 ")) continue; // generated addresses are IPv4
      const tokens = line.split(" ");
      const idx = { src: [], dst: [], sport: [], dport: [], timeout: -1 };
      tokens.forEach((t, i) => {
        const eq = t.indexOf("=");
        const k = eq > 0 ? t.slice(0, eq) : "";
        if (k in idx && k !== "timeout") idx[k].push(i);
      });
      // header: ipv4 <pad> 2 <l4> <pad> <num> <timeout> [STATE]
      const header = tokens.map((t, i) => [t, i]).filter(([t]) => t !== "");
      if (header.length > 4 && /^\d+$/.test(header[4][0])) idx.timeout = header[4][1];
      if (idx.src.length === 2 && idx.dst.length === 2) templates.push({ tokens, idx });
    }
  }
  if (templates.length === 0) throw new Error("no conntrack templates found");
  return templates;
}

function writeConntrack(path, budget, rnd) {
  const templates = conntrackTemplates();
  const out = new Out(path);
  const heavy = ["10.9.0.11", "10.9.0.12", "10.9.0.13", "172.16.4.20", "10.40.1.7"];
  const servers = Array.from({ length: 60 }, (_, i) => `192.168.${i >> 4}.${(i * 7 + 1) & 255}`);
  const ports = [443, 80, 53, 8080, 5432, 6379, 9999, 22, 123, 3306];
  while (out.bytes < budget) {
    const t = templates[Math.floor(rnd() * templates.length)];
    const tok = t.tokens.slice();
    const r = rnd();
    const src = r < 0.25 ? heavy[Math.floor(rnd() * heavy.length)] : `10.${(rnd() * 64) | 0}.${(rnd() * 256) | 0}.${(rnd() * 256) | 0}`;
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
    if (t.idx.timeout >= 0) {
      const old = Number(tok[t.idx.timeout]);
      tok[t.idx.timeout] = String(old > 3600 ? 432000 - ((rnd() * 7200) | 0) : 1 + ((rnd() * Math.max(old, 30)) | 0));
    }
    out.line(tok.join(" "));
  }
  out.close();
  return { bytes: out.bytes, lines: out.lines };
}

// ---------------------------------------------------------------- iptables-save

function ruleTemplates() {
  const files = ["lab-iptables-save.txt", "lab-iptables-legacy-save-c.txt", "lab-iptables-save-c.txt", "derived-iptables-save-1.6.1.txt", "lab-incompat2-iptables-save.txt"];
  const keep = [];
  const verdicts = new Set(["ACCEPT", "DROP", "REJECT", "LOG", "RETURN"]);
  for (const f of files) {
    if (!existsSync(fixture("rules", f))) continue;
    let table = "";
    for (const raw of readLines(fixture("rules", f))) {
      const line = raw.replace(/^\[\d+:\d+\] /, "");
      if (line.startsWith("*")) table = line.slice(1).trim();
      if (table !== "filter" || !line.startsWith("-A ")) continue;
      const m = /^-A \S+ (.*) -j (\S+)(.*)$/.exec(line);
      if (!m) continue;
      const target = verdicts.has(m[2]) ? `${m[2]}${m[3]}` : "DROP";
      keep.push({ matches: m[1], target });
    }
  }
  if (keep.length === 0) throw new Error("no iptables-save rule templates found");
  return keep;
}

function writeRules(path, rules, rnd) {
  const templates = ruleTemplates();
  const out = new Out(path);
  const stamp = "Sun Nov 22 07:24:24 2026";
  const chains = Math.max(1, Math.round(rules / 100));
  out.line(`# Generated by iptables-save v1.8.9 on ${stamp}`);
  out.line("*nat");
  for (const c of ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]) out.line(`:${c} ACCEPT [0:0]`);
  out.line("-A POSTROUTING -s 10.0.0.0/8 -o eth0 -j MASQUERADE");
  out.line("COMMIT");
  out.line(`# Completed on ${stamp}`);
  out.line(`# Generated by iptables-save v1.8.9 on ${stamp}`);
  out.line("*filter");
  out.line(":INPUT ACCEPT [0:0]");
  out.line(":FORWARD DROP [0:0]");
  out.line(":OUTPUT ACCEPT [0:0]");
  for (let c = 0; c < chains; c++) out.line(`:BLK${c} - [0:0]`);
  out.line("-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT");
  for (let c = 0; c < chains; c++) out.line(`-A INPUT -s 10.${c >> 8}.${c & 255}.0/24 -j BLK${c}`);
  let written = chains + 1;
  for (let c = 0; c < chains && written < rules; c++) {
    const n = c === chains - 1 ? rules - written : Math.min(rules - written, Math.round((rules - chains) / chains));
    for (let i = 0; i < n; i++) {
      const t = templates[Math.floor(rnd() * templates.length)];
      const ip = `${(rnd() * 223 + 1) | 0}.${(rnd() * 256) | 0}.${(rnd() * 256) | 0}.${(rnd() * 256) | 0}`;
      const matches = t.matches
        .replace(/(^|\s)(-[sd]) \S+/, (_m, sp, flag) => `${sp}${flag} ${ip}/32`)
        .replace(/--dport \d+/, () => `--dport ${1 + ((rnd() * 65000) | 0)}`);
      const hasAddr = /(^|\s)-s /.test(matches);
      out.line(`-A BLK${c} ${hasAddr ? "" : `-s ${ip}/32 `}${matches} -j ${t.target}`);
      written++;
    }
  }
  out.line("COMMIT");
  out.line(`# Completed on ${stamp}`);
  out.close();
  return { bytes: out.bytes, lines: out.lines, rules: written };
}

// ---------------------------------------------------------------- kernel log

const RFC3339 = /^(\d{4}-\d\d-\d\dT\S+) (\S+) (.*)$/;
const TRADITIONAL = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d (\S+) (.*)$/;

/** Syslog message parts (`prog: text`, uptime stripped) from the syslog-format fixtures. */
function klogTemplates() {
  const files = ["kern-rsyslog-default.txt", "kern-rsyslog-traditional.txt", "seed-001-syslog.txt", "derived-journal-k.txt", "derived-old-kernels.txt"];
  const kernel = [];
  const daemon = [];
  for (const f of files) {
    if (!existsSync(fixture("kernel-log", f))) continue;
    for (const line of readLines(fixture("kernel-log", f))) {
      const m = RFC3339.exec(line) ?? TRADITIONAL.exec(line);
      if (!m) continue;
      const rest = m[3] ?? m[2];
      const k = /^kernel: (?:\[\s*\d+\.\d+\] )?(.*)$/.exec(rest);
      if (k) kernel.push(k[1]);
      else if (/^[\w.@-]+(\[\d+\])?: /.test(rest)) daemon.push(rest);
    }
  }
  if (kernel.length === 0) throw new Error("no kernel-log templates found");
  return { kernel, daemon };
}

function varyMessage(msg, rnd) {
  return msg
    .replace(/\b(SRC|DST)=\d+\.\d+\.\d+\.\d+/g, (_m, k) => `${k}=10.${(rnd() * 64) | 0}.${(rnd() * 256) | 0}.${(rnd() * 256) | 0}`)
    .replace(/\b(SPT|DPT)=\d+/g, (_m, k) => `${k}=${1 + ((rnd() * 65000) | 0)}`)
    .replace(/in netns \d+/, () => `in netns ${[4026532177, 4026532246, 4026532301][(rnd() * 3) | 0]}`);
}

function iso(ms) {
  return `${new Date(Math.floor(ms)).toISOString().slice(0, 19)}.${String(Math.floor((ms % 1000) * 1000)).padStart(6, "0")}+00:00`;
}

/**
 * kern.log: the sample's own lines (boot messages) then `lines` generated kernel lines between boot+5 s and
 * the collection start. syslog: the same mix plus daemon lines until it holds `bytes`.
 */
function writeKlog(path, original, opts, rnd) {
  const { kernel, daemon } = klogTemplates();
  const out = new Out(path);
  for (const l of original) if (l) out.line(l);
  const bootMs = opts.btime * 1000;
  const t0 = bootMs + 5000;
  const span = opts.endMs - t0;
  const limit = opts.lines ?? Number.POSITIVE_INFINITY;
  const budget = opts.bytes ?? Number.POSITIVE_INFINITY;
  const estimate = opts.lines ?? Math.max(1, Math.round(budget / 150));
  for (let i = 0; i < limit && out.bytes < budget; i++) {
    const ms = t0 + (span * i) / estimate;
    const useDaemon = opts.daemon && daemon.length > 0 && rnd() < 0.1;
    if (useDaemon) out.line(`${iso(ms)} ${opts.host} ${daemon[Math.floor(rnd() * daemon.length)]}`);
    else {
      const up = ((ms - bootMs) / 1000).toFixed(6).padStart(12, " ");
      out.line(`${iso(ms)} ${opts.host} kernel: [${up}] ${varyMessage(kernel[Math.floor(rnd() * kernel.length)], rnd)}`);
    }
  }
  out.close();
  return { bytes: out.bytes, lines: out.lines };
}

// ---------------------------------------------------------------- main

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ["ignore", "inherit", "inherit"], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status ?? r.signal})`);
}

function sizeOfTree(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? sizeOfTree(p) : statSync(p).size;
  }
  return n;
}

export function makeBigBundle(o) {
  const started = Date.now();
  const scale = o.bytes / 1e9;
  const sample = join(root, "samples/soundcloud-stateful/bundle.tar.gz");
  const work = join("/tmp", `nfdiag-big-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run("tar", ["-xzf", sample, "-C", work]);
  const top = readdirSync(work)[0];
  const dir = join(work, top);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const endMs = manifest.start.epoch_ms;
  const rnd = prng(o.seed);

  rmSync(join(dir, "files/proc/net/nf_conntrack.gz"), { force: true });
  const ct = writeConntrack(join(dir, "files/proc/net/nf_conntrack"), o.bytes * 0.6, rnd);
  const rules = writeRules(join(dir, "commands/iptables-legacy-save"), Math.round(200_000 * scale), rnd);
  const kernPath = join(dir, "files/var/log/kern.log");
  const kernOriginal = existsSync(kernPath) ? readFileSync(kernPath, "utf8").split("\n") : [];
  const kern = writeKlog(kernPath, kernOriginal, { lines: Math.round(1_000_000 * scale), host: manifest.host, btime: manifest.btime, endMs }, rnd);
  const syslogPath = join(dir, "files/var/log/syslog");
  const syslogOriginal = existsSync(syslogPath) ? readFileSync(syslogPath, "utf8").split("\n") : [];
  const already = sizeOfTree(dir) - (existsSync(syslogPath) ? statSync(syslogPath).size : 0);
  const syslog = writeKlog(syslogPath, syslogOriginal, { bytes: Math.max(0, o.bytes - already), host: manifest.host, btime: manifest.btime, endMs, daemon: true }, rnd);

  // Keep the manifest truthful about the replaced captures.
  const fix = (stored, path, bytes, newStored = stored) => {
    for (const list of [manifest.files, manifest.commands])
      for (const e of list ?? [])
        if (e.stored === stored || e.output === stored || (path && e.path === path && e.stored === stored)) {
          if ("stored" in e && typeof e.stored === "string") e.stored = newStored;
          if ("output" in e) e.output = newStored;
          Object.assign(e, { bytes, stored_bytes: bytes, compressed: false, truncated: false });
        }
  };
  fix("files/proc/net/nf_conntrack.gz", "/proc/net/nf_conntrack", ct.bytes, "files/proc/net/nf_conntrack");
  fix("commands/iptables-legacy-save", null, rules.bytes);
  fix("files/var/log/kern.log", null, kern.bytes);
  fix("files/var/log/syslog", null, syslog.bytes);
  writeFileSync(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const content = sizeOfTree(dir);
  const genSeconds = (Date.now() - started) / 1000;

  const formats = o.format === "both" ? ["gz", "xz"] : [o.format];
  const outputs = [];
  for (const fmt of formats) {
    const base = o.out ? resolve(o.out) : `/tmp/nfdiag-big-${o.size}.tar.gz`;
    const stem = base.replace(/\.tar\.(gz|xz)$/, "");
    const target = stem === base && formats.length === 1 ? base : `${stem}.tar.${fmt}`;
    if (target.startsWith(`${root}/`) && !target.startsWith(`${root}/bench-results/`)) throw new Error(`refusing to write ${target} inside the repository`);
    const t = Date.now();
    const compressor = fmt === "gz" ? "gzip -n -6" : "xz -T0 -1";
    const tarCmd = `tar --sort=name --mtime=@${manifest.start.epoch} --owner=0 --group=0 --numeric-owner --format=gnu -C '${work}' -cf - '${top}' | ${compressor} > '${target}.part'`;
    run("bash", ["-o", "pipefail", "-c", tarCmd]);
    renameSync(`${target}.part`, target);
    outputs.push({ format: fmt, path: target, bytes: statSync(target).size, seconds: (Date.now() - t) / 1000 });
  }
  if (!o.keepDir) rmSync(work, { recursive: true, force: true });
  const result = { content, genSeconds, conntrack: ct, rules, kern, syslog, outputs, work: o.keepDir ? dir : undefined };
  // Sizes and counts beside the bundle, for scripts/bench.mjs.
  const first = outputs[0]?.path;
  if (first) writeFileSync(first.replace(/\.tar\.(gz|xz)$/, "") + ".json", `${JSON.stringify(result)}\n`);
  return result;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const o = parseArgs(process.argv.slice(2));
  const r = makeBigBundle(o);
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`content ${mb(r.content)} generated in ${r.genSeconds.toFixed(1)} s`);
  console.log(`  files/proc/net/nf_conntrack    ${r.conntrack.lines} entries, ${mb(r.conntrack.bytes)} (${((100 * r.conntrack.bytes) / r.content).toFixed(0)} %)`);
  console.log(`  commands/iptables-legacy-save  ${r.rules.rules} rules, ${mb(r.rules.bytes)}`);
  console.log(`  files/var/log/kern.log         ${r.kern.lines} lines, ${mb(r.kern.bytes)}`);
  console.log(`  files/var/log/syslog           ${r.syslog.lines} lines, ${mb(r.syslog.bytes)}`);
  for (const out of r.outputs) console.log(`wrote ${out.path} (${mb(out.bytes)}, ${out.format}, ${out.seconds.toFixed(1)} s)`);
  if (r.work) console.log(`work folder kept: ${r.work}`);
}
