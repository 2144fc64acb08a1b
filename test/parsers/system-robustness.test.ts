/**
 * Every system / bundle-metadata parser against the same hostile inputs: empty input, CRLF,
 * a binary garbage line in the middle, a 5 MB line, and a truncated last line.
 */
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type { ParserFactory } from "../../src/parsers/types.js";
import { fixture, run } from "./sys-fixtures.js";
import * as lsmod from "../../src/parsers/lsmod.js";
import * as builtin from "../../src/parsers/modules-builtin.js";
import * as onDisk from "../../src/parsers/modules-on-disk.js";
import * as kconfig from "../../src/parsers/kernel-config.js";
import * as sysctl from "../../src/parsers/sysctl.js";
import * as sysctlConf from "../../src/parsers/sysctl-conf.js";
import * as modprobe from "../../src/parsers/modprobe-d.js";
import * as modulesLoad from "../../src/parsers/modules-load-d.js";
import * as meminfo from "../../src/parsers/meminfo.js";
import * as slabinfo from "../../src/parsers/slabinfo.js";
import * as uname from "../../src/parsers/uname.js";
import * as kver from "../../src/parsers/kernel-version.js";
import * as osRelease from "../../src/parsers/os-release.js";
import * as uptime from "../../src/parsers/uptime.js";
import * as date from "../../src/parsers/date.js";
import * as procStat from "../../src/parsers/proc-stat.js";
import * as iptv from "../../src/parsers/iptables-version.js";
import * as alternatives from "../../src/parsers/alternatives.js";
import * as names from "../../src/parsers/ip-tables-names.js";
import * as sosLog from "../../src/parsers/sos-log.js";
import * as manifest from "../../src/parsers/sos-manifest.js";

interface Case {
  name: string;
  mod: { schema: z.ZodType; create: ParserFactory<unknown> };
  sample: string;
  path?: string;
  /** A number that grows with the facts found (modules, entries …). */
  count: (v: never) => number;
  /** Where a garbage line can be inserted without breaking a multi-line structure (0-based line index). */
  garbageAt?: number;
  /** Single-value sources: a garbage/long line is added after the real one. */
  single?: boolean;
}

const modulesLoadSample = "# boot modules\nnf_conntrack\nbr_netfilter\nxt_recent ip_pkt_list_tot=100\n";
const kconfigSample = "# Linux/x86 6.1.192 Kernel Configuration\nCONFIG_NF_CONNTRACK=m\n# CONFIG_NF_CONNTRACK_PROC_COMPAT is not set\nCONFIG_NF_CONNTRACK_PROCFS=y\nCONFIG_LOCALVERSION=\"\"\n";
const builtinSample = "kernel/net/netfilter/x_tables.ko\nkernel/net/netfilter/nf_conntrack.ko\nkernel/net/ipv4/netfilter/nf_defrag_ipv4.ko\n";

const cases: Case[] = [
  { name: "lsmod", mod: lsmod, sample: fixture("lsmod.sos"), count: (v: lsmod.LsmodFacts) => v.modules.length },
  { name: "proc/modules", mod: lsmod, sample: fixture("proc-modules.sos"), count: (v: lsmod.LsmodFacts) => v.modules.length },
  { name: "modules.builtin", mod: builtin, sample: builtinSample, count: (v: builtin.BuiltinModules) => v.modules.length },
  { name: "modules on disk", mod: onDisk, sample: fixture("modules.dep.sos"), path: "usr/lib/modules/6.1.0-56-amd64/modules.dep", count: (v: onDisk.ModulesOnDisk) => v.modules.length },
  { name: "kernel config", mod: kconfig, sample: kconfigSample, count: (v: kconfig.KernelConfig) => Object.keys(v.options).length },
  { name: "sysctl -a", mod: sysctl, sample: fixture("sysctl-a.sos"), count: (v: sysctl.SysctlFacts) => Object.keys(v.entries).length + v.errors.length },
  { name: "sysctl conf", mod: sysctlConf, sample: fixture("usr-lib-sysctl.d-99-protect-links.conf"), count: (v: sysctlConf.SysctlConf) => v.entries.length },
  { name: "modprobe.d", mod: modprobe, sample: fixture("modprobe-install-false.derived.conf"), count: (v: modprobe.ModprobeConf) => v.directives.length, garbageAt: 3 },
  { name: "modules-load.d", mod: modulesLoad, sample: modulesLoadSample, count: (v: modulesLoad.ModulesLoadD) => v.modules.length },
  { name: "meminfo", mod: meminfo, sample: fixture("meminfo.sos"), count: (v: meminfo.Meminfo) => Object.keys(v.fields).length },
  { name: "slabinfo", mod: slabinfo, sample: fixture("slabinfo.sos"), count: (v: slabinfo.Slabinfo) => v.caches.length },
  { name: "uname", mod: uname, sample: fixture("uname-a.sos"), count: (v: uname.Uname) => (v.release === null ? 0 : 1), single: true },
  { name: "kernel release file", mod: kver, sample: fixture("uname-r.lab"), count: (v: kver.KernelReleaseFile) => (v.kernel === null ? 0 : 1), single: true },
  { name: "os-release", mod: osRelease, sample: fixture("os-release.debian12"), count: (v: osRelease.OsRelease) => Object.keys(v.fields).length },
  { name: "uptime", mod: uptime, sample: fixture("uptime.lab"), count: (v: uptime.Uptime) => (v.uptimeSeconds === null ? 0 : 1), single: true },
  { name: "date", mod: date, sample: fixture("date.lab"), count: (v: date.DateFacts) => v.readings.length },
  { name: "proc/stat", mod: procStat, sample: fixture("proc-stat.sos"), count: (v: procStat.ProcStat) => (v.btime === null ? 0 : 1) + v.cpuCount },
  { name: "iptables -V", mod: iptv, sample: fixture("iptables-V.lab"), count: (v: iptv.IptablesVersionFacts) => v.tools.length },
  { name: "alternatives", mod: alternatives, sample: fixture("alternatives-debian.lab"), count: (v: alternatives.Alternatives) => v.groups.reduce((n, g) => n + g.choices.length, 0), garbageAt: 6 },
  { name: "ip_tables_matches", mod: names, sample: fixture("ip_tables_matches.sos"), path: "proc/net/ip_tables_matches", count: (v: names.IpTablesNames) => v.entries.length },
  { name: "sos.log", mod: sosLog, sample: fixture("sos.log.sos"), count: (v: sosLog.SosLog) => v.skipped.length + Object.values(v.collectedCommands).reduce((a, b) => a + b, 0) },
  { name: "sos manifest", mod: manifest, sample: fixture("manifest.sos.json"), count: (v: manifest.SosManifest) => v.commands.length, garbageAt: 20 },
];

function lines(text: string): string[] {
  const l = text.split("\n"); // the text split into lines; not a test call
  if (l[l.length - 1] === "") l.pop();
  return l;
}

describe.each(cases)("$name: hostile input", (c) => {
  const path = c.path ?? "test/input";
  const base = run(c.mod.create, c.sample, path);
  const baseCount = c.count(base.value as never);

  it("reads the real sample", () => {
    expect(baseCount).toBeGreaterThan(0);
    expect(() => c.mod.schema.parse(base.value)).not.toThrow();
  });

  it("empty input gives an empty, schema-valid value", () => {
    const r = run(c.mod.create, "", path);
    expect(() => c.mod.schema.parse(r.value)).not.toThrow();
    expect(c.count(r.value as never)).toBe(0);
  });

  it("CRLF line ends give the same facts", () => {
    const r = run(c.mod.create, c.sample.replaceAll("\n", "\r\n"), path);
    expect(r.value).toEqual(base.value);
  });

  it("a binary garbage line is skipped with a warning naming it", () => {
    const l = lines(c.sample);
    const at = c.single ? l.length : (c.garbageAt ?? Math.min(1, l.length));
    l.splice(at, 0, "\u0000\u0001\u00ff\ufffdELF\u0002\u0003garbage\u0000");
    const r = run(c.mod.create, `${l.join("\n")}\n`, path);
    expect(r.warnings.some((w) => w.line === at + 1)).toBe(true);
    expect(c.count(r.value as never)).toBe(baseCount);
    expect(() => c.mod.schema.parse(r.value)).not.toThrow();
  });

  it("a 5 MB line does not hang and does not add facts", () => {
    const l = lines(c.sample);
    const at = c.single ? l.length : (c.garbageAt ?? Math.min(1, l.length));
    l.splice(at, 0, "a".repeat(5 * 1024 * 1024));
    const t0 = Date.now();
    const r = run(c.mod.create, `${l.join("\n")}\n`, path);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(c.count(r.value as never)).toBe(baseCount);
    expect(() => c.mod.schema.parse(r.value)).not.toThrow();
  });

  it("a truncated last line does not throw and keeps the earlier facts", () => {
    const text = c.sample.trimEnd();
    const cut = text.slice(0, text.length - Math.max(3, Math.floor((text.length - text.lastIndexOf("\n")) / 2)));
    const r = run(c.mod.create, cut, path);
    expect(() => c.mod.schema.parse(r.value)).not.toThrow();
    // a truncated single-line source may lose its fact; multi-line sources keep all but the last
    if (!c.single) expect(c.count(r.value as never)).toBeGreaterThanOrEqual(baseCount - 1);
  });
});
