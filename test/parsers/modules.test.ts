import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import * as lsmod from "../../src/parsers/lsmod.js";
import * as builtin from "../../src/parsers/modules-builtin.js";
import * as onDisk from "../../src/parsers/modules-on-disk.js";
import * as modulesLoad from "../../src/parsers/modules-load-d.js";
import * as modprobe from "../../src/parsers/modprobe-d.js";
import * as kconfig from "../../src/parsers/kernel-config.js";

describe("lsmod", () => {
  it("reads real lsmod output (sos, kernel 6.1)", () => {
    const { value, warnings } = run(lsmod.create, fixture("lsmod.sos"), "sos_commands/kernel/lsmod");
    expect(warnings).toEqual([]);
    expect(value.format).toBe("lsmod");
    const ct = value.modules.find((m) => m.name === "nf_conntrack");
    expect(ct).toMatchObject({ size: 188416, useCount: 4, users: ["xt_conntrack", "nf_nat", "nf_conntrack_netlink", "xt_MASQUERADE"], state: null });
    expect(ct?.provenance).toEqual({ path: "sos_commands/kernel/lsmod", line: 16 });
    expect(value.modules.find((m) => m.name === "nf_conntrack_netlink")?.users).toEqual([]);
  });

  it("reads real /proc/modules with state, address and trailing-comma users", () => {
    const { value } = run(lsmod.create, fixture("proc-modules.sos"), "proc/modules");
    expect(value.format).toBe("proc-modules");
    expect(value.modules).toHaveLength(34);
    expect(value.modules.find((m) => m.name === "x_tables")).toMatchObject({
      useCount: 9,
      state: "Live",
      address: "0xffffffffc04c8000",
      users: ["iptable_nat", "xt_MASQUERADE", "ip_tables", "xt_LOG", "xt_limit", "xt_recent", "xt_tcpudp", "xt_conntrack", "nft_compat"],
    });
  });

  it("reads taint flags, [permanent] and '-' refcounts", () => {
    const { value } = run(lsmod.create, "nvidia 56344576 3 nvidia_modeset,[permanent], Live 0xffffffffc1000000 (POE)\nfoo 1000 - - Unloading 0x0\n");
    expect(value.modules[0]).toMatchObject({ name: "nvidia", taint: "POE", permanent: true, users: ["nvidia_modeset"] });
    expect(value.modules[1]).toMatchObject({ useCount: null, state: "Unloading" });
  });

  it("records the real lsmod failure on a kernel without modules", () => {
    const { value } = run(lsmod.create, fixture("lsmod-fails.lab"), "lsmod.err");
    expect(value.modules).toEqual([]);
    expect(value.failures).toHaveLength(2);
    expect(value.failures[0]?.message).toContain("could not open /proc/modules: No such file or directory");
    expect(value.failures[1]?.provenance.line).toBe(2);
  });

  it("warns on a truncated /proc/modules line", () => {
    const { value, warnings } = run(lsmod.create, "virtio 20480 2 virtio_blk,virtio_pci, Live 0xffffffffc0365000\nvirtio_ring 49152 3 virtio_bl");
    expect(value.modules).toHaveLength(2);
    expect(warnings.some((w) => w.line === 2 && w.message.includes("truncated"))).toBe(true);
  });
});

describe("modules.builtin and modules on disk", () => {
  it("names built-in modules, '-' normalised", () => {
    const { value } = run(builtin.create, "kernel/net/netfilter/nf_conntrack.ko\nkernel/drivers/hid/hid-generic.ko\n");
    expect(value.modules.map((m) => m.name)).toEqual(["nf_conntrack", "hid_generic"]);
  });

  it("reads real modules.dep and takes the release from the file's path", () => {
    const { value } = run(onDisk.create, fixture("modules.dep.sos"), "usr/lib/modules/6.1.0-56-amd64/modules.dep");
    expect(value.modules.map((m) => m.name)).toContain("xt_recent");
    expect(value.kernelReleases).toEqual(["6.1.0-56-amd64"]);
    expect(value.modules.every((m) => m.compression === "none")).toBe(true);
  });

  it("reads a find listing with compressed modules of several kernels", () => {
    const text = [
      "/usr/lib/modules/6.8.0-45-generic/kernel/net/netfilter",
      "/usr/lib/modules/6.8.0-45-generic/kernel/net/netfilter/xt_recent.ko.zst",
      "/lib/modules/4.19.0-27-amd64/kernel/net/netfilter/nf_conntrack.ko.xz",
      "/lib/modules/5.14.0-427.13.1.el9_4.x86_64/kernel/net/netfilter/nf_conntrack_ftp.ko.xz",
    ].join("\n");
    const { value } = run(onDisk.create, text, "find-lib-modules");
    expect(value.modules.map((m) => [m.name, m.compression, m.kernelRelease])).toEqual([
      ["xt_recent", "zst", "6.8.0-45-generic"],
      ["nf_conntrack", "xz", "4.19.0-27-amd64"],
      ["nf_conntrack_ftp", "xz", "5.14.0-427.13.1.el9_4.x86_64"],
    ]);
    expect(value.kernelReleases).toHaveLength(3);
  });
});

describe("modules-load.d", () => {
  it("reads names, skips comments, normalises", () => {
    const { value, warnings } = run(modulesLoad.create, "# comment\n; also comment\nnf-conntrack\nbr_netfilter\nbad/name\n");
    expect(value.modules.map((m) => m.name)).toEqual(["nf_conntrack", "br_netfilter"]);
    expect(value.modules[0]?.rawName).toBe("nf-conntrack");
    expect(warnings.map((w) => w.line)).toEqual([5]);
  });
});

describe("modprobe.d", () => {
  it("reads the real options line", () => {
    const { value } = run(modprobe.create, fixture("modprobe-nf_conntrack.conf"), "etc/modprobe.d/nf_conntrack.conf");
    expect(value.directives).toEqual([
      { kind: "options", module: "nf_conntrack", params: { hashsize: "16384" }, raw: "hashsize=16384", provenance: { path: "etc/modprobe.d/nf_conntrack.conf", line: 1 } },
    ]);
    expect(value.disabled).toEqual([]);
  });

  it("finds how modules are disabled and which block dependency loads", () => {
    const { value } = run(modprobe.create, fixture("modprobe-install-false.derived.conf"), "etc/modprobe.d/harden.conf");
    expect(value.disabled.map((d) => [d.module, d.how, d.blocksDependencyLoad])).toEqual([
      ["nf_conntrack", "install-false", true],
      ["nf_conntrack_ftp", "blacklist", false],
      ["nf_nat", "alias-off", false],
    ]);
    const opts = value.directives.find((d) => d.kind === "options");
    expect(opts?.kind === "options" && opts.params).toEqual({ hashsize: "262144", expect_hashsize: "1024" });
    const soft = value.directives.find((d) => d.kind === "softdep");
    expect(soft).toMatchObject({ pre: ["nf_defrag_ipv4", "nf_defrag_ipv6"], post: ["nf_conntrack_netlink"] });
    const inst = value.directives.find((d) => d.kind === "install" && d.module === "xt_recent");
    expect(inst).toMatchObject({ command: "/sbin/modprobe --ignore-install xt_recent ip_pkt_list_tot=255      && echo loaded", provenance: { line: 7, lastLine: 8 } });
    expect(value.directives.find((d) => d.kind === "remove")).toMatchObject({ module: "nf_conntrack", command: "/bin/true" });
  });

  it("install /bin/true also disables", () => {
    const { value } = run(modprobe.create, "install nf-conntrack /bin/true\n");
    expect(value.disabled[0]).toMatchObject({ module: "nf_conntrack", how: "install-true", blocksDependencyLoad: true });
  });
});

describe("kernel config", () => {
  it("reads =y, =m, strings, numbers and 'is not set'", () => {
    const text = '# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_NF_CONNTRACK=m\nCONFIG_NETFILTER=y\n# CONFIG_NF_CONNTRACK_PROC_COMPAT is not set\nCONFIG_LOCALVERSION="-lab"\nCONFIG_NR_CPUS=8192\n';
    const { value } = run(kconfig.create, text, "boot/config-6.1.0-56-amd64");
    expect(value.header).toBe("Linux/x86 6.1.192");
    expect(value.options.CONFIG_NF_CONNTRACK).toMatchObject({ value: "m", kind: "module", provenance: { line: 2 } });
    expect(value.options.CONFIG_NF_CONNTRACK_PROC_COMPAT).toMatchObject({ kind: "not-set" });
    expect(value.options.CONFIG_LOCALVERSION).toMatchObject({ value: "-lab", kind: "string" });
    expect(value.options.CONFIG_NR_CPUS?.kind).toBe("number");
    expect(kconfig.isEnabled(value, "CONFIG_NETFILTER")).toBe(true);
    expect(kconfig.isEnabled(value, "CONFIG_NF_CONNTRACK_PROC_COMPAT")).toBe(false);
  });

  it("warns on an unterminated string (truncated file)", () => {
    const { value, warnings } = run(kconfig.create, 'CONFIG_A=y\nCONFIG_LOCALVERSION="-la');
    expect(value.options.CONFIG_LOCALVERSION).toBeUndefined();
    expect(warnings[0]?.line).toBe(2);
  });
});
