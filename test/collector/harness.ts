/**
 * Test harness for src/collector/nfdiag-collect.sh: a fake root (--root) and stub commands first
 * on PATH that append their argv to a log. Stubs never touch the real kernel.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const SCRIPT = join(REPO, "src", "collector", "nfdiag-collect.sh");
export const KREL = "5.10.0-fake";

/** Commands that could load a kernel module, plus the loaders themselves: all stubbed and logged. */
export const STUBS = [
  "iptables",
  "iptables-save",
  "iptables-legacy-save",
  "iptables-nft-save",
  "ip6tables",
  "ip6tables-save",
  "ip6tables-legacy-save",
  "ip6tables-nft-save",
  "nft",
  "conntrack",
  "ipset",
  "modprobe",
  "insmod",
  "rmmod",
  "lsmod",
  "ip",
  // host readers stubbed for speed and hermetic output
  "dmesg",
  "sysctl",
];

/** Commands whose presence in the log means a gate was opened. */
export const GATED = ["iptables", "ip6tables", "iptables-save", "ip6tables-save", "iptables-legacy-save",
  "ip6tables-legacy-save", "iptables-nft-save", "ip6tables-nft-save", "nft", "conntrack", "ipset"];

const STUB_TEXT = `#!/bin/sh
me=\${0##*/}
line=$me
[ $# -gt 0 ] && line="$me $*"
printf '%s\\n' "$line" >>"$NFDIAG_STUB_LOG"
case "$line" in
"ip netns list")
	for n in $NFDIAG_STUB_NETNS; do printf '%s (id: 0)\\n' "$n"; done
	exit 0 ;;
"ip netns exec "*)
	shift 3
	exec "$@" ;;
"dmesg --help") echo " -T, --ctime                 show human-readable timestamp"; exit 0 ;;
"dmesg"*) echo "[    0.000000] Linux version ${KREL} (stub)"; exit 0 ;;
"sysctl -a") echo "net.netfilter.nf_conntrack_max = 65536"; exit 0 ;;
"modprobe"* | "insmod"* | "rmmod"*) echo "$me: refused by stub" >&2; exit 1 ;;
esac
if [ -n "$NFDIAG_STUB_HANG" ] && [ "$line" = "$NFDIAG_STUB_HANG" ]; then
	sleep 30
	echo "not reached"
	exit 0
fi
if [ -n "$NFDIAG_STUB_LOADS" ] && [ "$me" = conntrack ] &&
	! grep -q "^$NFDIAG_STUB_LOADS " "$NFDIAG_STUB_ROOT/proc/modules"; then
	printf '%s 16384 0 - Live 0x0000000000000000\\n' "$NFDIAG_STUB_LOADS" >>"$NFDIAG_STUB_ROOT/proc/modules"
fi
echo "# stub output of $line"
exit 0
`;

export interface FakeRootOptions {
  /** Module names listed in /proc/modules; null = no /proc/modules at all (no module support). */
  loaded: string[] | null;
  /** Lines of modules.builtin (paths like kernel/net/netfilter/nf_tables.ko). */
  builtin?: string[];
  /** Extra files: path (absolute, under the root) -> content. */
  files?: Record<string, string>;
  /** File modes to set after creation: path -> mode. */
  modes?: Record<string, number>;
  /** Directories to create (e.g. /sys/module/<name>). */
  dirs?: string[];
}

export const ALL_MODULES = ["ip_tables", "ip6_tables", "nf_tables", "nfnetlink", "nf_conntrack",
  "nf_conntrack_netlink", "ip_set", "x_tables", "nf_nat", "nf_defrag_ipv4", "nf_defrag_ipv6",
  "iptable_filter", "iptable_nat"];

function put(root: string, path: string, content: string): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
}

export function makeFakeRoot(base: string, opts: FakeRootOptions): string {
  const root = join(base, "root");
  mkdirSync(root, { recursive: true });
  if (opts.loaded !== null) {
    const lines = ["ext4 1044480 1 - Live 0x0000000000000000", "crc32c_generic 16384 0 - Live 0x0000000000000000"];
    for (const m of opts.loaded) lines.push(`${m} 16384 0 - Live 0x0000000000000000`);
    put(root, "/proc/modules", lines.join("\n") + "\n");
  }
  put(root, "/proc/version", `Linux version ${KREL} (stub)\n`);
  put(root, "/proc/uptime", "12345.67 23456.78\n");
  put(root, "/proc/stat", "cpu  1 2 3 4\nbtime 1700000000\nprocesses 42\n");
  put(root, "/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/sda1\n");
  put(root, "/proc/meminfo", "MemTotal:        2048000 kB\n");
  put(root, "/proc/sys/kernel/osrelease", `${KREL}\n`);
  put(root, "/proc/sys/kernel/hostname", "fake host\n");
  put(root, "/proc/sys/kernel/random/boot_id", "0b5e1d2c-0000-4000-8000-000000000001\n");
  put(root, "/proc/sys/net/netfilter/nf_conntrack_count", "17\n");
  put(root, "/proc/sys/net/netfilter/nf_conntrack_max", "65536\n");
  put(root, "/proc/sys/net/netfilter/nf_log/2", "NONE\n");
  put(root, "/proc/sys/net/ipv4/ip_forward", "1\n");
  put(root, "/proc/net/stat/nf_conntrack",
    "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart\n" +
      "00000011  00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000  00000000 00000000 00000000 00000000\n");
  put(root, "/proc/net/ip_tables_names", "filter\n");
  put(root, "/sys/module/nf_conntrack/parameters/hashsize", "65536\n");
  put(root, `/lib/modules/${KREL}/modules.builtin`, (opts.builtin ?? ["kernel/fs/ext4/ext4.ko"]).join("\n") + "\n");
  put(root, `/lib/modules/${KREL}/kernel/net/netfilter/nf_conntrack.ko`, "");
  put(root, `/lib/modules/${KREL}/kernel/net/ipv4/netfilter/iptable_nat.ko.xz`, "");
  put(root, `/lib/modules/${KREL}/kernel/fs/ext4/ext4.ko`, "");
  put(root, `/boot/config-${KREL}`, "CONFIG_MODULES=y\nCONFIG_NF_TABLES=m\nCONFIG_NF_CONNTRACK=m\n");
  put(root, "/etc/modprobe.d/netfilter.conf", "alias nf_conntrack off\n");
  put(root, "/etc/sysctl.conf", "net.netfilter.nf_conntrack_max = 65536\n");
  put(root, "/etc/os-release", 'PRETTY_NAME="Fake Linux"\nID=fake\n');
  put(root, "/etc/timezone", "Europe/Berlin\n");
  put(root, "/var/log/kern.log", "Nov 22 06:42:24 fake kernel: [ 1706.768684] nf_conntrack: table full, dropping packet\n");
  for (const [path, content] of Object.entries(opts.files ?? {})) put(root, path, content);
  for (const d of opts.dirs ?? []) mkdirSync(join(root, d), { recursive: true });
  for (const [path, mode] of Object.entries(opts.modes ?? {})) chmodSync(join(root, path), mode);
  return root;
}

export function makeStubs(base: string): string {
  const dir = join(base, "stubs");
  mkdirSync(dir, { recursive: true });
  for (const name of STUBS) {
    const p = join(dir, name);
    writeFileSync(p, STUB_TEXT);
    chmodSync(p, 0o755);
  }
  return dir;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  tarball: string;
  /** Files of the bundle, path relative to the top folder -> content (".gz" members decompressed). */
  files: Map<string, Buffer>;
  manifest: unknown;
  /** Lines the stubs logged (`name args...`). */
  calls: string[];
}

export interface RunOptions {
  shell: string[];
  loaded: string[] | null;
  builtin?: string[];
  files?: Record<string, string>;
  modes?: Record<string, number>;
  dirs?: string[];
  args?: string[];
  env?: Record<string, string>;
  netns?: string[];
  /** Run as this uid/gid via setpriv (tests for non-root). */
  asUser?: number;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function runCollector(opts: RunOptions): RunResult {
  const base = tempDir("nfdiag-collect-test-");
  const root = makeFakeRoot(base, {
    loaded: opts.loaded,
    builtin: opts.builtin,
    files: opts.files,
    modes: opts.modes,
    dirs: opts.dirs,
  });
  const stubs = makeStubs(base);
  const out = join(base, "out");
  mkdirSync(out);
  const log = join(base, "calls.log");
  writeFileSync(log, "");
  const env: Record<string, string> = {
    PATH: `${stubs}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    HOME: base,
    NFDIAG_STUB_LOG: log,
    NFDIAG_STUB_ROOT: root,
    NFDIAG_STUB_NETNS: (opts.netns ?? []).join(" "),
    ...(opts.env ?? {}),
  };
  let argv = [...opts.shell.slice(1), SCRIPT, "-o", out, "--root", root, "--sample-seconds", "0", ...(opts.args ?? [])];
  let cmd = opts.shell[0]!;
  if (opts.asUser !== undefined) {
    for (const p of [base, root, stubs, out]) chmodSync(p, 0o755);
    chmodSync(log, 0o666);
    execFileSync("chown", ["-R", `${opts.asUser}:${opts.asUser}`, out]);
    argv = ["--reuid", String(opts.asUser), "--regid", String(opts.asUser), "--clear-groups", cmd, ...argv];
    cmd = "setpriv";
  }
  const t0 = Date.now();
  const r = spawnSync(cmd, argv, { env, encoding: "utf8", timeout: 60_000 });
  const wallMs = Date.now() - t0;
  const stdout = r.stdout ?? "";
  const lines = stdout.trimEnd().split("\n"); // stdout lines (helper, not a test)
  const tarball = lines[lines.length - 1] ?? "";
  const files = new Map<string, Buffer>();
  let manifest: unknown = undefined;
  if (tarball && existsSync(tarball)) {
    const x = join(base, "x");
    mkdirSync(x);
    execFileSync("tar", ["-xzf", tarball, "-C", x]);
    const tops = readdirSync(x);
    const top = join(x, tops[0]!);
    const walk = (dir: string, rel: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        const r2 = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(p, r2);
        else {
          const buf = readFileSync(p);
          files.set(r2, r2.endsWith(".gz") ? gunzipSync(buf) : buf);
        }
      }
    };
    walk(top, "");
    const m = files.get("manifest.json");
    if (m) manifest = JSON.parse(m.toString("utf8"));
  }
  const calls = readFileSync(log, "utf8").split("\n").filter((l) => l !== ""); // argv lines the stubs logged (helper, not a test)
  if (!process.env.NFDIAG_KEEP_TEST_DIRS) rmSync(base, { recursive: true, force: true });
  return { status: r.status, stdout, stderr: r.stderr ?? "", wallMs, tarball, files, manifest, calls };
}

/** The shells the collector must run under; a missing one is a test failure, not a skip. */
export const SHELLS: Record<string, string[]> = {
  dash: ["dash"],
  "busybox sh": ["busybox", "sh"],
  bash: ["bash"],
};

export function shellAvailable(shell: string[]): boolean {
  const r = spawnSync(shell[0]!, [...shell.slice(1), "-c", "exit 0"], { encoding: "utf8" });
  return r.status === 0;
}
