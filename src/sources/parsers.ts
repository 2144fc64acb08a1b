/** The parser behind each parser key of the registry: one static import each. */
import { create as kernelLog } from "../parsers/kernel-log.js";
import { create as lsmod } from "../parsers/lsmod.js";
import { create as modulesBuiltin } from "../parsers/modules-builtin.js";
import { create as modulesOnDisk } from "../parsers/modules-on-disk.js";
import { create as kernelConfig } from "../parsers/kernel-config.js";
import { create as sysctl } from "../parsers/sysctl.js";
import { create as sysctlConf } from "../parsers/sysctl-conf.js";
import { create as modprobeD } from "../parsers/modprobe-d.js";
import { create as modulesLoadD } from "../parsers/modules-load-d.js";
import { create as iptablesSave } from "../parsers/iptables-save.js";
import { create as iptablesList } from "../parsers/iptables-list.js";
import { create as nftRuleset } from "../parsers/nft-ruleset.js";
import { create as nftJson } from "../parsers/nft-json.js";
import { create as ipset } from "../parsers/ipset.js";
import { create as conntrackStats } from "../parsers/conntrack-stats.js";
import { create as procStatNfConntrack } from "../parsers/proc-stat-nf-conntrack.js";
import { create as conntrackCount } from "../parsers/conntrack-count.js";
import { create as conntrackTable } from "../parsers/conntrack-table.js";
import { create as singleValue } from "../parsers/single-value.js";
import { create as meminfo } from "../parsers/meminfo.js";
import { create as slabinfo } from "../parsers/slabinfo.js";
import { create as uname } from "../parsers/uname.js";
import { create as osRelease } from "../parsers/os-release.js";
import { create as uptime } from "../parsers/uptime.js";
import { create as date } from "../parsers/date.js";
import { create as procStat } from "../parsers/proc-stat.js";
import { create as ipTablesNames } from "../parsers/ip-tables-names.js";
import { create as iptablesVersion } from "../parsers/iptables-version.js";
import { create as alternatives } from "../parsers/alternatives.js";
import { create as collectorManifest } from "../parsers/collector-manifest.js";
import { create as sosLog } from "../parsers/sos-log.js";
import { create as sosManifest } from "../parsers/sos-manifest.js";
import type { ParserFactory } from "../parsers/types.js";
import type { ParserKey } from "./registry.js";

export const PARSERS: Record<ParserKey, ParserFactory<unknown>> = {
  "kernel-log": kernelLog as ParserFactory<unknown>,
  "lsmod": lsmod as ParserFactory<unknown>,
  "modules-builtin": modulesBuiltin as ParserFactory<unknown>,
  "modules-on-disk": modulesOnDisk as ParserFactory<unknown>,
  "kernel-config": kernelConfig as ParserFactory<unknown>,
  "sysctl": sysctl as ParserFactory<unknown>,
  "sysctl-conf": sysctlConf as ParserFactory<unknown>,
  "modprobe-d": modprobeD as ParserFactory<unknown>,
  "modules-load-d": modulesLoadD as ParserFactory<unknown>,
  "iptables-save": iptablesSave as ParserFactory<unknown>,
  "iptables-list": iptablesList as ParserFactory<unknown>,
  "nft-ruleset": nftRuleset as ParserFactory<unknown>,
  "nft-json": nftJson as ParserFactory<unknown>,
  "ipset": ipset as ParserFactory<unknown>,
  "conntrack-stats": conntrackStats as ParserFactory<unknown>,
  "proc-stat-nf-conntrack": procStatNfConntrack as ParserFactory<unknown>,
  "conntrack-count": conntrackCount as ParserFactory<unknown>,
  "conntrack-table": conntrackTable as ParserFactory<unknown>,
  "single-value": singleValue as ParserFactory<unknown>,
  "meminfo": meminfo as ParserFactory<unknown>,
  "slabinfo": slabinfo as ParserFactory<unknown>,
  "uname": uname as ParserFactory<unknown>,
  "os-release": osRelease as ParserFactory<unknown>,
  "uptime": uptime as ParserFactory<unknown>,
  "date": date as ParserFactory<unknown>,
  "proc-stat": procStat as ParserFactory<unknown>,
  "ip-tables-names": ipTablesNames as ParserFactory<unknown>,
  "iptables-version": iptablesVersion as ParserFactory<unknown>,
  "alternatives": alternatives as ParserFactory<unknown>,
  "collector-manifest": collectorManifest as ParserFactory<unknown>,
  "sos-log": sosLog as ParserFactory<unknown>,
  "sos-manifest": sosManifest as ParserFactory<unknown>,
};
