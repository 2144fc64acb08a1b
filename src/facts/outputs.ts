/** The output type of each parser, so that a source id carries its parsed type. */
import type { Alternatives } from "../parsers/alternatives.js";
import type { CollectorManifest } from "../parsers/collector-manifest.js";
import type { ConntrackCount } from "../parsers/conntrack-count.js";
import type { ConntrackStats } from "../parsers/conntrack-stats.js";
import type { ConntrackTable } from "../parsers/conntrack-table.js";
import type { DateFacts } from "../parsers/date.js";
import type { IpTablesNames } from "../parsers/ip-tables-names.js";
import type { IpsetOutput } from "../parsers/ipset.js";
import type { IptablesList } from "../parsers/iptables-list.js";
import type { IptablesSave } from "../parsers/iptables-save.js";
import type { IptablesVersionFacts } from "../parsers/iptables-version.js";
import type { KernelConfig } from "../parsers/kernel-config.js";
import type { KernelLogFacts } from "../parsers/kernel-log.js";
import type { LsmodFacts } from "../parsers/lsmod.js";
import type { Meminfo } from "../parsers/meminfo.js";
import type { ModprobeConf } from "../parsers/modprobe-d.js";
import type { BuiltinModules } from "../parsers/modules-builtin.js";
import type { ModulesLoadD } from "../parsers/modules-load-d.js";
import type { ModulesOnDisk } from "../parsers/modules-on-disk.js";
import type { NftRuleset } from "../parsers/nft-ruleset.js";
import type { OsRelease } from "../parsers/os-release.js";
import type { ProcStatNfConntrack } from "../parsers/proc-stat-nf-conntrack.js";
import type { ProcStat } from "../parsers/proc-stat.js";
import type { SingleValue } from "../parsers/single-value.js";
import type { Slabinfo } from "../parsers/slabinfo.js";
import type { SosLog } from "../parsers/sos-log.js";
import type { SosManifest } from "../parsers/sos-manifest.js";
import type { SysctlConf } from "../parsers/sysctl-conf.js";
import type { SysctlFacts } from "../parsers/sysctl.js";
import type { Uname } from "../parsers/uname.js";
import type { Uptime } from "../parsers/uptime.js";
import type { ParserKey, ParserOf, SourceId } from "../sources/registry.js";

export interface ParserOutputs {
  "kernel-log": KernelLogFacts;
  lsmod: LsmodFacts;
  "modules-builtin": BuiltinModules;
  "modules-on-disk": ModulesOnDisk;
  "kernel-config": KernelConfig;
  sysctl: SysctlFacts;
  "sysctl-conf": SysctlConf;
  "modprobe-d": ModprobeConf;
  "modules-load-d": ModulesLoadD;
  "iptables-save": IptablesSave;
  "iptables-list": IptablesList;
  "nft-ruleset": NftRuleset;
  "nft-json": NftRuleset;
  ipset: IpsetOutput;
  "conntrack-stats": ConntrackStats;
  "proc-stat-nf-conntrack": ProcStatNfConntrack;
  "conntrack-count": ConntrackCount;
  "conntrack-table": ConntrackTable;
  "single-value": SingleValue;
  meminfo: Meminfo;
  slabinfo: Slabinfo;
  uname: Uname;
  "os-release": OsRelease;
  uptime: Uptime;
  date: DateFacts;
  "proc-stat": ProcStat;
  "ip-tables-names": IpTablesNames;
  "iptables-version": IptablesVersionFacts;
  alternatives: Alternatives;
  "collector-manifest": CollectorManifest;
  "sos-log": SosLog;
  "sos-manifest": SosManifest;
}

// Every parser key of the registry has an output type above.
const everyParserTyped: ParserKey extends keyof ParserOutputs ? true : false = true;
void everyParserTyped;

export type SourceValue<I extends SourceId> = ParserOutputs[ParserOf<I>];
