/**
 * The collector must never make the kernel load a module: gated commands run only when their
 * module is loaded or built in, and every skip is recorded with its reason. Run under dash,
 * busybox sh and bash against a fake root with stub commands.
 */
import { describe, expect, it } from "vitest";
import { schema, type CollectorManifest } from "../../src/parsers/collector-manifest.js";
import { ALL_MODULES, GATED, SHELLS, runCollector, shellAvailable, type RunResult } from "./harness.js";

const LOADERS = ["modprobe", "insmod", "rmmod", "lsmod"];

/** Calls to gated commands, loaders and `ip`, in order. */
function interesting(calls: string[]): string[] {
  return calls.filter((c) => {
    const name = c.split(" ")[0]!;
    return GATED.includes(name) || LOADERS.includes(name) || name === "ip";
  });
}

function manifestOf(r: RunResult): CollectorManifest {
  const parsed = schema.safeParse(r.manifest);
  if (!parsed.success) throw new Error(`manifest does not match the schema: ${parsed.error.message}`);
  return parsed.data;
}

function command(m: CollectorManifest, output: string) {
  const c = m.commands.find((x) => x.output === output);
  if (!c) throw new Error(`no command record for ${output}; have: ${m.commands.map((x) => x.output).join(", ")}`);
  return c;
}

function assertRan(r: RunResult): CollectorManifest {
  expect(r.status, r.stderr).toBe(0);
  expect(r.tarball).toMatch(/\/nfdiag-fake_host-\d{8}T\d{6}Z\.tar\.gz$/);
  return manifestOf(r);
}

const NETNS_CATS = [
  "ip netns exec ns1 cat /proc/sys/net/netfilter/nf_conntrack_count",
  "ip netns exec ns1 cat /proc/net/stat/nf_conntrack",
  "ip netns exec ns1 cat /proc/net/ip_tables_names",
  "ip netns exec ns1 cat /proc/net/ip6_tables_names",
  "ip netns exec ns1 cat /proc/net/nf_conntrack",
];

const netnsGated = (cmd: string) => [`ip netns exec ns1 ${cmd}`, cmd];

/** Exactly what the collector runs when every module is loaded (fake root: no /proc/net/nf_conntrack). */
const EXPECTED_ALL_LOADED = [
  "conntrack -S", // sample 1
  "iptables -V", // stub path: backend unknown, gated like the nft backend
  "iptables-legacy-save",
  "ip6tables-legacy-save",
  "iptables-nft-save",
  "ip6tables-nft-save",
  "nft list ruleset",
  "nft -j list ruleset",
  "ipset save",
  "ipset list -t",
  "conntrack -S",
  "conntrack -L -o extended", // no /proc/net/nf_conntrack in the fake root
  "ip netns list",
  ...netnsGated("iptables-legacy-save"),
  ...netnsGated("ip6tables-legacy-save"),
  ...netnsGated("iptables-nft-save"),
  ...netnsGated("ip6tables-nft-save"),
  ...netnsGated("nft list ruleset"),
  ...netnsGated("ipset save"),
  ...NETNS_CATS,
  "conntrack -S", // sample 2
];

for (const [shellName, shell] of Object.entries(SHELLS)) {
  describe(`collector gating under ${shellName}`, () => {
    it(`${shellName} is installed`, () => {
      expect(shellAvailable(shell), `${shell.join(" ")} not found: install it (apt-get install dash busybox bash)`).toBe(true);
    });

    it("runs no gated command and no module loader when no netfilter module is loaded", () => {
      const r = runCollector({ shell, loaded: [], netns: ["ns1"] });
      const m = assertRan(r);
      expect(interesting(r.calls)).toEqual(["ip netns list", ...NETNS_CATS]);
      expect(m.modules.support).toBe("loadable");
      expect(m.modules.state["nf_tables"]).toEqual({ loaded: false, evidence: "not loaded" });
      expect(m.modules.changed).toBe(false);

      const reason = (o: string) => command(m, o).skip_reason;
      expect(reason("commands/nft_list_ruleset")).toBe("nf_tables, nfnetlink not loaded: nft not run, it would load the modules");
      expect(reason("commands/nft_-j_list_ruleset")).toBe("nf_tables, nfnetlink not loaded: nft not run, it would load the modules");
      expect(reason("commands/iptables-legacy-save")).toBe("ip_tables not loaded: iptables-legacy-save not run, it would load the module");
      expect(reason("commands/ip6tables-legacy-save")).toBe("ip6_tables not loaded: ip6tables-legacy-save not run, it would load the module");
      expect(reason("commands/iptables-nft-save")).toBe("nf_tables, nfnetlink not loaded: iptables-nft-save not run, it would load the modules");
      expect(reason("commands/iptables_-V")).toBe("nf_tables, nfnetlink not loaded: iptables not run, it would load the modules");
      expect(reason("commands/conntrack_-S")).toBe("nf_conntrack_netlink not loaded: conntrack not run, it would load the module");
      expect(reason("samples/1/conntrack_-S")).toBe("nf_conntrack_netlink not loaded: conntrack not run, it would load the module");
      expect(reason("commands/conntrack_-L_-o_extended.gz")).toBe("nf_conntrack_netlink not loaded: conntrack not run, it would load the module");
      expect(reason("commands/conntrack_-C")).toBe("replaced by /proc/sys/net/netfilter/nf_conntrack_count (same data, no netlink)");
      expect(reason("commands/ipset_save")).toBe("ip_set not loaded: ipset not run, it would load the module");
      expect(reason("commands/ipset_list_-t")).toBe("ip_set not loaded: ipset not run, it would load the module");
      const ns = command(m, "netns/ns1/commands/nft_list_ruleset");
      expect(ns.skipped).toBe(true);
      expect(ns.netns).toBe("ns1");
      expect(ns.argv).toEqual(["ip", "netns", "exec", "ns1", "nft", "list", "ruleset"]);
      for (const c of m.commands.filter((x) => x.skipped)) {
        expect(r.files.has(c.output), `${c.output} skipped yet present`).toBe(false);
      }
      // the files that replace commands are there
      expect(r.files.get("files/proc/modules")?.toString()).toContain("ext4 ");
      expect(r.files.get("files/proc/sys/net/netfilter/nf_conntrack_count")?.toString()).toBe("17\n");
      expect(r.files.get("samples/1/nf_conntrack_count")?.toString()).toBe("17\n");
      expect(r.files.get("samples/2/stat_nf_conntrack")?.toString()).toContain("entries  clashres");
      expect(r.files.get("commands/modules_on_disk")?.toString()).toBe(
        "kernel/net/ipv4/netfilter/iptable_nat.ko.xz\nkernel/net/netfilter/nf_conntrack.ko\n",
      );
    });

    it("runs each gated command exactly as intended when every module is loaded", () => {
      const r = runCollector({ shell, loaded: ALL_MODULES, netns: ["ns1"] });
      const m = assertRan(r);
      expect(interesting(r.calls)).toEqual(EXPECTED_ALL_LOADED);
      expect(r.calls.some((c) => / -t /.test(` ${c} `) && !c.startsWith("ipset list"))).toBe(false);
      expect(r.calls.some((c) => /^(ip6?tables|iptables-legacy|iptables-nft) .*-L/.test(c))).toBe(false);
      for (const o of ["commands/nft_list_ruleset", "commands/iptables-legacy-save", "commands/conntrack_-S",
        "commands/ipset_save", "commands/conntrack_-L_-o_extended.gz", "netns/ns1/commands/nft_list_ruleset"]) {
        const c = command(m, o);
        expect(c.skipped, o).toBe(false);
        expect(c.exit_code, o).toBe(0);
        expect(c.timed_out, o).toBe(false);
      }
      expect(r.files.get("commands/nft_list_ruleset")?.toString()).toBe("# stub output of nft list ruleset\n");
      expect(r.files.get("commands/conntrack_-L_-o_extended.gz")?.toString()).toBe(
        "# stub output of conntrack -L -o extended\n",
      );
      expect(r.files.get("netns/ns1/commands/iptables-nft-save")?.toString()).toBe("# stub output of iptables-nft-save\n");
      expect(command(m, "commands/conntrack_-C").skip_reason).toMatch(/^replaced by /);
      expect(m.modules.state["nf_conntrack_netlink"]).toEqual({ loaded: true, evidence: "listed in /proc/modules" });
      expect(m.modules.changed).toBe(false);
      expect(m.warnings).toEqual([]);
      expect(m.netns.names).toEqual(["ns1"]);
      expect(m.samples.map((s) => s.n)).toEqual([1, 2]);
      expect(m.host).toBe("fake host");
      expect(m.kernel).toBe("5.10.0-fake");
      expect(m.btime).toBe(1700000000);
      expect(m.uptime_seconds).toBe(12345.67);
      expect(m.boot_id).toBe("0b5e1d2c-0000-4000-8000-000000000001");
      expect(m.timezone.name).toBe("Europe/Berlin");
    });
  });
}

describe("collector gating evidence (bash)", () => {
  const shell = SHELLS["bash"]!;

  it("counts modules.builtin, =y config lines and /sys/module/<name> as loaded", () => {
    const r = runCollector({
      shell,
      loaded: [],
      builtin: ["kernel/fs/ext4/ext4.ko", "kernel/net/netfilter/nf_tables.ko", "kernel/net/netfilter/nfnetlink.ko"],
      files: { "/boot/config-5.10.0-fake": "CONFIG_MODULES=y\nCONFIG_IP_SET=y\nCONFIG_NF_CONNTRACK=m\n" },
      dirs: ["/sys/module/ip6_tables"],
    });
    const m = assertRan(r);
    const calls = interesting(r.calls);
    expect(calls).toContain("nft list ruleset");
    expect(calls).toContain("ipset save");
    expect(calls).toContain("ip6tables-legacy-save");
    expect(calls).not.toContain("iptables-legacy-save");
    expect(calls.some((c) => c.startsWith("conntrack"))).toBe(false);
    expect(m.modules.state["nf_tables"]?.evidence).toBe("built in (/lib/modules/5.10.0-fake/modules.builtin)");
    expect(m.modules.state["ip_set"]?.evidence).toBe("built in (CONFIG_IP_SET=y in /boot/config-5.10.0-fake)");
    expect(m.modules.state["ip6_tables"]?.evidence).toBe("present in /sys/module/ip6_tables");
    expect(m.modules.state["nf_conntrack_netlink"]?.loaded).toBe(false);
    expect(m.modules.state["nf_conntrack"]?.evidence).toBe("present in /sys/module/nf_conntrack");
  });

  it("runs everything on a kernel without module support (no /proc/modules)", () => {
    const r = runCollector({ shell, loaded: null, files: { "/boot/config-5.10.0-fake": "CONFIG_NF_TABLES=y\n" } });
    const m = assertRan(r);
    expect(m.modules.support).toBe("none");
    const calls = interesting(r.calls);
    for (const c of ["iptables-legacy-save", "nft list ruleset", "conntrack -S", "ipset save"]) expect(calls).toContain(c);
    expect(calls.some((c) => LOADERS.includes(c.split(" ")[0]!))).toBe(false); // assertion: no modprobe/insmod was ever called
  });

  it("warns loudly when the module list changes during the run", () => {
    const r = runCollector({ shell, loaded: ALL_MODULES, env: { NFDIAG_STUB_LOADS: "xt_stub" } });
    const m = assertRan(r);
    expect(m.modules.changed).toBe(true);
    expect(m.modules.added).toEqual(["xt_stub"]);
    expect(m.modules.removed).toEqual([]);
    expect(m.warnings.some((w) => w.startsWith("KERNEL MODULES CHANGED DURING COLLECTION"))).toBe(true);
    expect(r.stderr).toContain("WARNING: KERNEL MODULES CHANGED");
  });

  it("caps outputs with a marker and records truncation", () => {
    const r = runCollector({
      shell,
      loaded: ALL_MODULES,
      args: ["--max-file-bytes", "20", "--netns", "none"],
      files: { "/etc/sysctl.conf": "x".repeat(100) + "\n" },
    });
    const m = assertRan(r);
    const f = m.files.find((x) => x.path === "/etc/sysctl.conf")!;
    expect(f).toMatchObject({ status: "copied", bytes: 20, truncated: true });
    expect(r.files.get("files/etc/sysctl.conf")?.toString()).toBe("x".repeat(20) + "\n[nfdiag-collect: truncated at 20 bytes]\n");
    const kern = m.files.find((x) => x.path === "/var/log/kern.log")!;
    expect(kern).toMatchObject({ truncated: true, bytes: 20 });
    expect(r.files.get("files/var/log/kern.log")?.toString()).toMatch(
      /^\[nfdiag-collect: truncated: the first \d+ bytes were omitted, the last 20 bytes kept\]\n/,
    );
    const c = command(m, "commands/conntrack_-L_-o_extended.gz");
    expect(c).toMatchObject({ truncated: true, bytes: 20, compressed: true });
    expect(r.files.get("commands/conntrack_-L_-o_extended.gz")?.toString()).toBe(
      "# stub output of con\n[nfdiag-collect: truncated at 20 bytes]\n",
    );
    // dmesg keeps its newest lines (the end), like the log tails.
    const dmesgOut = "[    0.000000] Linux version 5.10.0-fake (stub)\n";
    expect(command(m, "commands/dmesg")).toMatchObject({ truncated: true, bytes: 20 });
    expect(r.files.get("commands/dmesg")?.toString()).toBe(
      `[nfdiag-collect: truncated: the first ${dmesgOut.length - 20} bytes were omitted, the last 20 bytes kept]\n${dmesgOut.slice(-20)}`,
    );
    expect(m.netns.mode).toBe("none");
    expect(r.calls).not.toContain("ip netns list");
  });

  it("runs as non-root, collecting what it can and recording what permissions prevented", () => {
    const asUser = process.getuid?.() === 0 ? 65534 : undefined;
    const r = runCollector({
      shell,
      loaded: ALL_MODULES,
      netns: ["ns1"],
      files: { "/proc/slabinfo": "slabinfo - version: 2.1\n" },
      modes: { "/proc/slabinfo": 0o400 },
      asUser,
    });
    const m = assertRan(r);
    expect(m.is_root).toBe(false);
    const slab = m.files.find((x) => x.path === "/proc/slabinfo")!;
    if (asUser !== undefined) {
      expect(slab).toMatchObject({ status: "unreadable", stored: null, error: "permission denied" });
      expect(m.permission_denied).toContain("/proc/slabinfo: permission denied");
    }
    expect(m.permission_denied.some((p) => p.startsWith("network namespaces: ip netns exec needs root"))).toBe(true);
    expect(command(m, "netns/ns1/commands/nft_list_ruleset").skip_reason).toBe("not root: ip netns exec needs root");
    expect(r.calls.some((c) => c.startsWith("ip netns exec"))).toBe(false);
    expect(r.files.has("files/proc/modules")).toBe(true);
  });
});
