import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import * as sysctl from "../../src/parsers/sysctl.js";
import * as conf from "../../src/parsers/sysctl-conf.js";

describe("sysctl -a", () => {
  it("reads the real sos sysctl -a (kernel 6.1, table full at 128)", () => {
    const { value, warnings } = run(sysctl.create, fixture("sysctl-a.sos"), "sos_commands/kernel/sysctl_-a");
    expect(warnings).toEqual([]);
    expect(value.entries["net.netfilter.nf_conntrack_max"]).toMatchObject({ number: 128, originalKey: null });
    expect(value.entries["net.netfilter.nf_conntrack_count"]?.number).toBe(128);
    expect(value.entries["net.nf_conntrack_max"]?.number).toBe(128);
    expect(value.entries["net.netfilter.nf_log.2"]?.value).toBe("nf_log_ipv4");
    const rmem = value.entries["net.ipv4.tcp_rmem"];
    expect(rmem?.values).toHaveLength(3);
    expect(rmem?.number).toBeNull();
    expect(value.entries["fs.file-nr"]?.value).toContain("\t");
  });

  it("reads the real lab capture (kernel 6.18)", () => {
    const { value } = run(sysctl.create, fixture("sysctl-a.lab"), "sysctl-a");
    expect(value.entries["net.netfilter.nf_conntrack_buckets"]?.number).toBeGreaterThan(0);
    expect(value.entries["net.ipv4.neigh.lo.gc_stale_time"]?.number).toBe(60);
  });

  it("turns real error lines into facts", () => {
    const { value } = run(sysctl.create, fixture("sysctl-errors.lab"), "sysctl.err");
    expect(value.errors.filter((e) => e.kind === "permission-denied")).toHaveLength(10);
    expect(value.errors[0]).toMatchObject({ kind: "permission-denied", key: "kernel.cad_pid", provenance: { line: 1 } });
    expect(value.errors[10]).toMatchObject({
      kind: "missing",
      key: "net.ipv4.netfilter.ip_conntrack_max",
      mappedKey: "net.netfilter.nf_conntrack_max",
    });
  });

  it("maps old ip_conntrack names to modern ones, modern wins, original kept", () => {
    const { value, warnings } = run(sysctl.create, fixture("sysctl-old-names.derived"), "sysctl_-a");
    expect(warnings).toEqual([]);
    expect(value.entries["net.netfilter.nf_conntrack_buckets"]).toMatchObject({ number: 16384, originalKey: "net.ipv4.netfilter.ip_conntrack_buckets" });
    expect(value.entries["net.netfilter.nf_conntrack_tcp_timeout_established"]?.number).toBe(432000);
    // nf_conntrack_max appears under both names: the modern line (5) wins
    expect(value.entries["net.netfilter.nf_conntrack_max"]).toMatchObject({ originalKey: null, provenance: { line: 5 } });
    expect(value.entries["net.ipv4.netfilter.ip_conntrack_max"]).toBeUndefined();
  });

  it("accepts a=b and / separators (VLAN dots kept as /)", () => {
    const { value } = run(sysctl.create, "net.ipv4.ip_forward=1\nnet/ipv4/conf/eth0.100/rp_filter = 2\n/proc/sys/vm/swappiness = 60\nnet.ipv4.tcp_wmem = 4096 16384 4194304\n");
    expect(value.entries["net.ipv4.ip_forward"]?.number).toBe(1);
    expect(value.entries["net.ipv4.conf.eth0/100.rp_filter"]).toMatchObject({ number: 2, originalKey: "net/ipv4/conf/eth0.100/rp_filter" });
    expect(value.entries["vm.swappiness"]?.number).toBe(60);
    expect(value.entries["net.ipv4.tcp_wmem"]?.values).toEqual(["4096", "16384", "4194304"]);
  });

  it("recognises procps 3.2 error wording", () => {
    const { value } = run(sysctl.create, 'error: "net.ipv4.netfilter.ip_conntrack_max" is an unknown key\nerror: "Operation not permitted" setting key "net.netfilter.nf_conntrack_max"\n');
    expect(value.errors.map((e) => [e.kind, e.key])).toEqual([
      ["unknown-key", "net.ipv4.netfilter.ip_conntrack_max"],
      ["set-error", "net.netfilter.nf_conntrack_max"],
    ]);
  });

  it("warns on a truncated last line without '='", () => {
    const { value, warnings } = run(sysctl.create, "net.netfilter.nf_conntrack_max = 128\nnet.netfilter.nf_conn");
    expect(Object.keys(value.entries)).toEqual(["net.netfilter.nf_conntrack_max"]);
    expect(warnings[0]?.line).toBe(2);
  });
});

describe("sysctl.conf / sysctl.d", () => {
  it("reads the real drop-ins", () => {
    const { value } = run(conf.create, fixture("etc-sysctl.d-90-conntrack.conf"), "etc/sysctl.d/90-conntrack.conf");
    expect(value.entries.map((e) => [e.key, e.value])).toEqual([
      ["net.netfilter.nf_conntrack_max", "128"],
      ["net.netfilter.nf_conntrack_tcp_timeout_established", "86400"],
    ]);
    const deb = run(conf.create, fixture("etc-sysctl.conf"), "etc/sysctl.conf");
    expect(deb.value.entries).toEqual([]);
    expect(deb.warnings).toEqual([]);
  });

  it("reads '-' prefix, ';' comments, globs, slashes and old names", () => {
    const { value, warnings } = run(conf.create, "; comment\n-net.ipv4.conf.*.rp_filter = 2\nnet/ipv4/ip_forward=1\nnet.ipv4.netfilter.ip_conntrack_max = 1000\nnot an assignment\n");
    expect(value.entries.map((e) => [e.key, e.value, e.ignoreErrors, e.glob])).toEqual([
      ["net.ipv4.conf.*.rp_filter", "2", true, true],
      ["net.ipv4.ip_forward", "1", false, false],
      ["net.netfilter.nf_conntrack_max", "1000", false, false],
    ]);
    expect(warnings.map((w) => w.line)).toEqual([5]);
  });

  const file = (path: string, text: string) => ({ path, entries: run(conf.create, text, path).value.entries });

  it("effectiveSysctlConf: /etc/sysctl.d shadows same-named files, lexical order, /etc/sysctl.conf last", () => {
    const eff = conf.effectiveSysctlConf([
      file("usr/lib/sysctl.d/50-default.conf", "net.netfilter.nf_conntrack_max = 1\nkernel.pid_max = 100\n"),
      file("etc/sysctl.d/90-conntrack.conf", fixture("etc-sysctl.d-90-conntrack.conf")),
      file("usr/lib/sysctl.d/90-conntrack.conf", "net.netfilter.nf_conntrack_max = 999999\n"),
      file("run/sysctl.d/60-run.conf", "net.netfilter.nf_conntrack_max = 2\n"),
      file("etc/sysctl.conf", "kernel.pid_max = 300\n"),
      file("etc/sysctl.d/README.sysctl", "not = applied\n"),
      file("usr/lib/sysctl.d/99-protect-links.conf", fixture("usr-lib-sysctl.d-99-protect-links.conf")),
    ]);
    expect(eff.applied).toEqual([
      "usr/lib/sysctl.d/50-default.conf",
      "run/sysctl.d/60-run.conf",
      "etc/sysctl.d/90-conntrack.conf",
      "usr/lib/sysctl.d/99-protect-links.conf",
      "etc/sysctl.conf",
    ]);
    expect(eff.shadowed).toEqual([{ path: "usr/lib/sysctl.d/90-conntrack.conf", by: "etc/sysctl.d/90-conntrack.conf" }]);
    expect(eff.ignored).toEqual([{ path: "etc/sysctl.d/README.sysctl", reason: "not a *.conf file" }]);
    const max = eff.effective["net.netfilter.nf_conntrack_max"];
    expect(max?.value).toBe("128");
    expect(max?.source).toEqual({ path: "etc/sysctl.d/90-conntrack.conf", line: 1 });
    expect(max?.overridden.map((o) => [o.value, o.source.path])).toEqual([
      ["1", "usr/lib/sysctl.d/50-default.conf"],
      ["2", "run/sysctl.d/60-run.conf"],
    ]);
    expect(eff.effective["kernel.pid_max"]).toMatchObject({ value: "300", source: { path: "etc/sysctl.conf" } });
    expect(eff.effective["fs.protected_regular"]?.value).toBe("2");
  });

  it("effectiveSysctlConf: an empty higher-priority file masks a lower one; absolute paths work", () => {
    const eff = conf.effectiveSysctlConf([
      file("/usr/lib/sysctl.d/10-x.conf", "vm.swappiness = 10\n"),
      file("/etc/sysctl.d/10-x.conf", ""),
    ]);
    expect(eff.effective["vm.swappiness"]).toBeUndefined();
    expect(eff.shadowed[0]?.path).toBe("/usr/lib/sysctl.d/10-x.conf");
  });
});
