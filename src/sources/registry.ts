/**
 * Every logical source, declared once: its parser and its candidate paths in each bundle layout,
 * in order of preference (insights-core style specs). Paths are relative to the bundle root and
 * may be globs. A single source takes the first candidate that exists; a `multi` source takes
 * every match (rotated logs, drop-in folders, namespaces). The report names the path used, and
 * an absent source is reported as absent, never treated as empty.
 */
import type { Layout } from "./layouts.js";

export type ParserKey =
  | "kernel-log"
  | "lsmod"
  | "modules-builtin"
  | "modules-on-disk"
  | "kernel-config"
  | "sysctl"
  | "sysctl-conf"
  | "modprobe-d"
  | "modules-load-d"
  | "iptables-save"
  | "iptables-list"
  | "nft-ruleset"
  | "nft-json"
  | "ipset"
  | "conntrack-stats"
  | "proc-stat-nf-conntrack"
  | "conntrack-count"
  | "conntrack-table"
  | "single-value"
  | "meminfo"
  | "slabinfo"
  | "uname"
  | "os-release"
  | "uptime"
  | "date"
  | "proc-stat"
  | "ip-tables-names"
  | "iptables-version"
  | "alternatives"
  | "collector-manifest"
  | "sos-log"
  | "sos-manifest";

export interface SourceSpec {
  id: string;
  description: string;
  parser: ParserKey;
  /** Take every matching path instead of the first. */
  multi?: boolean;
  /** Large files at paths matching this (any layout) are parsed while the archive streams. */
  streamable?: RegExp;
  paths: Partial<Record<Exclude<Layout, "loose">, readonly string[]>>;
  /** Without it the source is not expected in that layout: absent there is not worth a warning. */
  expectedIn?: readonly Layout[];
}

const ALL: readonly Layout[] = ["nfdiag", "sosreport", "supportconfig", "loose"];
const COLLECTED: readonly Layout[] = ["nfdiag", "sosreport", "supportconfig"];

/** The supportconfig virtual path of a command block inside a topic file: `<topic>.txt#<command>`. */
const sc = (topic: string, command: string): string => `${topic}.txt#${command}`;

export const SOURCES = [
  // Kernel and system logs
  {
    id: "dmesg",
    description: "kernel ring buffer (dmesg)",
    parser: "kernel-log",
    streamable: /(^|\/)(dmesg[^/]*|var\/log\/dmesg[^/]*)$/,
    paths: {
      nfdiag: ["commands/dmesg", "commands/dmesg_-T"],
      sosreport: ["sos_commands/kernel/dmesg", "sos_commands/kernel/dmesg_-T", "var/log/dmesg"],
      supportconfig: [sc("boot", "*dmesg*")],
    },
    expectedIn: ALL,
  },
  {
    id: "kernel-log",
    description: "syslog files holding kernel messages (kern.log, messages, syslog)",
    parser: "kernel-log",
    multi: true,
    streamable: /(^|\/)var\/log\/(kern\.log|messages|syslog)[^/]*$/,
    paths: {
      nfdiag: ["files/var/log/kern.log*", "files/var/log/messages*", "files/var/log/syslog*"],
      sosreport: ["var/log/kern.log*", "var/log/messages*", "var/log/syslog*"],
      supportconfig: ["messages.txt#*/var/log/messages*", "messages.txt"],
    },
  },
  {
    id: "journal",
    description: "systemd journal (kernel messages and firewall units)",
    parser: "kernel-log",
    multi: true,
    streamable: /(^|\/)journalctl[^/]*$/,
    paths: {
      nfdiag: ["commands/journalctl_*"],
      sosreport: ["sos_commands/logs/journalctl_--no-pager*", "sos_commands/kernel/journalctl_*", "sos_commands/logs/journalctl_*"],
      supportconfig: [sc("messages", "journalctl*")],
    },
  },
  // Modules
  {
    id: "lsmod",
    description: "loaded modules (lsmod)",
    parser: "lsmod",
    paths: { nfdiag: ["commands/lsmod"], sosreport: ["sos_commands/kernel/lsmod", "lsmod"], supportconfig: [sc("modules", "*lsmod*")] },
    // Our collector reads /proc/modules instead (same data, no command).
    expectedIn: ["sosreport", "supportconfig"],
  },
  {
    id: "proc-modules",
    description: "loaded modules (/proc/modules)",
    parser: "lsmod",
    paths: { nfdiag: ["files/proc/modules"], sosreport: ["proc/modules"], supportconfig: ["modules.txt#*/proc/modules"] },
    expectedIn: COLLECTED,
  },
  {
    id: "modules-builtin",
    description: "modules built into the running kernel (modules.builtin)",
    parser: "modules-builtin",
    paths: { nfdiag: ["files/lib/modules/*/modules.builtin", "files/usr/lib/modules/*/modules.builtin"], sosreport: ["lib/modules/*/modules.builtin", "usr/lib/modules/*/modules.builtin"] },
    expectedIn: ["nfdiag"],
  },
  {
    id: "modules-on-disk",
    description: "netfilter modules installed for the running kernel",
    parser: "modules-on-disk",
    paths: { nfdiag: ["commands/modules_on_disk"], sosreport: ["sos_commands/kernel/find_*modules*"] },
    expectedIn: ["nfdiag"],
  },
  {
    id: "kernel-config",
    description: "kernel build configuration",
    parser: "kernel-config",
    paths: { nfdiag: ["files/boot/config-*", "files/proc/config"], sosreport: ["boot/config-*", "lib/modules/*/config"] },
  },
  {
    id: "modprobe-d",
    description: "modprobe configuration (modprobe.d)",
    parser: "modprobe-d",
    multi: true,
    paths: {
      nfdiag: ["files/etc/modprobe.d/*.conf", "files/lib/modprobe.d/*.conf", "files/usr/lib/modprobe.d/*.conf", "files/run/modprobe.d/*.conf", "files/etc/modprobe.conf"],
      sosreport: ["etc/modprobe.d/*.conf", "lib/modprobe.d/*.conf", "usr/lib/modprobe.d/*.conf", "run/modprobe.d/*.conf", "etc/modprobe.conf"],
      supportconfig: ["modules.txt#*/etc/modprobe.d/*"],
    },
  },
  {
    id: "modules-load-d",
    description: "modules loaded at boot (modules-load.d)",
    parser: "modules-load-d",
    multi: true,
    paths: {
      nfdiag: ["files/etc/modules-load.d/*.conf", "files/usr/lib/modules-load.d/*.conf", "files/lib/modules-load.d/*.conf", "files/etc/modules"],
      sosreport: ["etc/modules-load.d/*.conf", "usr/lib/modules-load.d/*.conf", "lib/modules-load.d/*.conf", "etc/modules"],
    },
  },
  // sysctl
  {
    id: "sysctl",
    description: "runtime kernel settings (sysctl -a)",
    parser: "sysctl",
    paths: { nfdiag: ["commands/sysctl_-a"], sosreport: ["sos_commands/kernel/sysctl_-a"], supportconfig: [sc("env", "*sysctl -a*")] },
    expectedIn: COLLECTED,
  },
  {
    id: "sysctl-d",
    description: "persistent sysctl settings (sysctl.conf, sysctl.d)",
    parser: "sysctl-conf",
    multi: true,
    paths: {
      nfdiag: ["files/etc/sysctl.conf", "files/etc/sysctl.d/*.conf", "files/run/sysctl.d/*.conf", "files/usr/local/lib/sysctl.d/*.conf", "files/usr/lib/sysctl.d/*.conf", "files/lib/sysctl.d/*.conf"],
      sosreport: ["etc/sysctl.conf", "etc/sysctl.d/*.conf", "run/sysctl.d/*.conf", "usr/local/lib/sysctl.d/*.conf", "usr/lib/sysctl.d/*.conf", "lib/sysctl.d/*.conf"],
      supportconfig: ["env.txt#*/etc/sysctl.conf", "env.txt#*/etc/sysctl.d/*"],
    },
  },
  {
    id: "proc-sys-netfilter",
    description: "files under /proc/sys/net/netfilter",
    parser: "single-value",
    multi: true,
    paths: { nfdiag: ["files/proc/sys/net/netfilter/*", "files/proc/sys/net/nf_conntrack_max"], sosreport: ["proc/sys/net/netfilter/*"] },
  },
  {
    id: "nf-conntrack-params",
    description: "nf_conntrack module parameters (/sys/module/nf_conntrack/parameters)",
    parser: "single-value",
    multi: true,
    paths: { nfdiag: ["files/sys/module/nf_conntrack/parameters/*"], sosreport: ["sys/module/nf_conntrack/parameters/*"] },
  },
  // Rules
  {
    id: "iptables-save",
    description: "IPv4 rules (iptables-save, default backend)",
    parser: "iptables-save",
    streamable: /(^|\/)[^/]*iptables-save[^/]*$/,
    paths: {
      nfdiag: ["commands/iptables-save"],
      sosreport: ["sos_commands/firewall_tables/iptables-save", "sos_commands/networking/iptables-save", "sos_commands/networking/iptables-save_*"],
      supportconfig: [sc("network", "*iptables-save*")],
    },
  },
  {
    id: "ip6tables-save",
    description: "IPv6 rules (ip6tables-save)",
    parser: "iptables-save",
    paths: { nfdiag: ["commands/ip6tables-save"], sosreport: ["sos_commands/networking/ip6tables-save"], supportconfig: [sc("network", "*ip6tables-save*")] },
  },
  {
    id: "iptables-legacy-save",
    description: "IPv4 rules in the legacy (x_tables) backend",
    parser: "iptables-save",
    paths: { nfdiag: ["commands/iptables-legacy-save"] },
    expectedIn: ["nfdiag"],
  },
  {
    id: "ip6tables-legacy-save",
    description: "IPv6 rules in the legacy backend",
    parser: "iptables-save",
    paths: { nfdiag: ["commands/ip6tables-legacy-save"] },
  },
  {
    id: "iptables-nft-save",
    description: "IPv4 rules in the nf_tables backend (iptables-nft-save)",
    parser: "iptables-save",
    paths: { nfdiag: ["commands/iptables-nft-save"] },
    expectedIn: ["nfdiag"],
  },
  {
    id: "ip6tables-nft-save",
    description: "IPv6 rules in the nf_tables backend",
    parser: "iptables-save",
    paths: { nfdiag: ["commands/ip6tables-nft-save"] },
  },
  {
    id: "iptables-list",
    description: "rule listings in `iptables -nvL` format (as sos writes them)",
    parser: "iptables-list",
    multi: true,
    paths: {
      nfdiag: ["commands/iptables_-*L*", "commands/ip6tables_-*L*"],
      sosreport: [
        "sos_commands/firewall_tables/iptables_-vnxL",
        "sos_commands/firewall_tables/iptables_-t_*_-nvL",
        "sos_commands/firewall_tables/ip6tables_-vnxL",
        "sos_commands/firewall_tables/ip6tables_-t_*_-nvL",
        "sos_commands/networking/iptables_-vnxL",
        "sos_commands/networking/iptables_-t_*_-nvL",
        "sos_commands/networking/ip6tables_-vnxL",
        "sos_commands/networking/ip6tables_-t_*_-nvL",
      ],
      supportconfig: [sc("network", "*iptables -t * -nvL*"), sc("network", "*ip6tables -t * -nvL*")],
    },
    expectedIn: ["sosreport", "supportconfig"],
  },
  {
    id: "nft-ruleset",
    description: "nftables rule set (nft list ruleset)",
    parser: "nft-ruleset",
    streamable: /(^|\/)nft_(-a_)?list_ruleset$/,
    paths: {
      nfdiag: ["commands/nft_list_ruleset", "commands/nft_-a_list_ruleset"],
      sosreport: ["sos_commands/firewall_tables/nft_-a_list_ruleset", "sos_commands/nftables/nft_-a_list_ruleset", "sos_commands/networking/nft_list_ruleset", "sos_commands/nftables/nft_list_ruleset"],
      supportconfig: [sc("network", "*nft list ruleset*")],
    },
    expectedIn: COLLECTED,
  },
  {
    id: "nft-ruleset-json",
    description: "nftables rule set as JSON (nft -j list ruleset)",
    parser: "nft-json",
    paths: { nfdiag: ["commands/nft_-j_list_ruleset"], sosreport: ["sos_commands/nftables/nft_-j_list_ruleset"] },
  },
  {
    id: "ipset",
    description: "IP sets (ipset save / ipset list)",
    parser: "ipset",
    multi: true,
    paths: {
      nfdiag: ["commands/ipset_save", "commands/ipset_list*"],
      sosreport: ["sos_commands/firewall_tables/ipset_list", "sos_commands/networking/ipset_list", "sos_commands/networking/ipset_-L"],
      supportconfig: [sc("network", "*ipset*")],
    },
  },
  {
    id: "saved-rules",
    description: "saved iptables rules loaded at boot",
    parser: "iptables-save",
    multi: true,
    paths: {
      nfdiag: ["files/etc/sysconfig/iptables", "files/etc/sysconfig/ip6tables", "files/etc/iptables/rules.v4", "files/etc/iptables/rules.v6", "files/etc/iptables.up.rules"],
      sosreport: ["etc/sysconfig/iptables", "etc/sysconfig/ip6tables", "etc/iptables/rules.v4", "etc/iptables/rules.v6"],
    },
  },
  {
    id: "saved-nft-rules",
    description: "saved nftables configuration loaded at boot",
    parser: "nft-ruleset",
    multi: true,
    paths: { nfdiag: ["files/etc/nftables.conf", "files/etc/sysconfig/nftables.conf"], sosreport: ["etc/nftables.conf", "etc/sysconfig/nftables.conf"] },
  },
  {
    id: "ip-tables-names",
    description: "legacy x_tables tables instantiated (/proc/net/ip_tables_names)",
    parser: "ip-tables-names",
    paths: { nfdiag: ["files/proc/net/ip_tables_names"], sosreport: ["proc/net/ip_tables_names", "proc/[0-9]*/net/ip_tables_names"] },
  },
  {
    id: "ip6-tables-names",
    description: "legacy ip6 tables instantiated (/proc/net/ip6_tables_names)",
    parser: "ip-tables-names",
    paths: { nfdiag: ["files/proc/net/ip6_tables_names"], sosreport: ["proc/net/ip6_tables_names", "proc/[0-9]*/net/ip6_tables_names"] },
  },
  {
    id: "ip-tables-matches",
    description: "x_tables matches registered (/proc/net/ip_tables_matches)",
    parser: "ip-tables-names",
    paths: { nfdiag: ["files/proc/net/ip_tables_matches"], sosreport: ["proc/net/ip_tables_matches", "proc/[0-9]*/net/ip_tables_matches"] },
  },
  {
    id: "ip-tables-targets",
    description: "x_tables targets registered (/proc/net/ip_tables_targets)",
    parser: "ip-tables-names",
    paths: { nfdiag: ["files/proc/net/ip_tables_targets"], sosreport: ["proc/net/ip_tables_targets", "proc/[0-9]*/net/ip_tables_targets"] },
  },
  {
    id: "iptables-version",
    description: "iptables version and backend (iptables -V)",
    parser: "iptables-version",
    paths: { nfdiag: ["commands/iptables_-V"], sosreport: ["sos_commands/networking/iptables_-V", "sos_commands/firewall_tables/iptables_-V"] },
  },
  {
    id: "alternatives",
    description: "which iptables backend the alternatives system selects",
    parser: "alternatives",
    multi: true,
    paths: {
      nfdiag: ["commands/update-alternatives_--display_iptables", "commands/alternatives_--display_iptables"],
      sosreport: ["sos_commands/alternatives/*iptables*"],
    },
  },
  // Conntrack
  {
    id: "conntrack-stats",
    description: "per-CPU conntrack counters (conntrack -S)",
    parser: "conntrack-stats",
    paths: { nfdiag: ["commands/conntrack_-S"], sosreport: ["sos_commands/conntrack/conntrack_-S", "sos_commands/networking/conntrack_-S"] },
  },
  {
    id: "proc-stat-nf_conntrack",
    description: "per-CPU conntrack counters (/proc/net/stat/nf_conntrack)",
    parser: "proc-stat-nf-conntrack",
    paths: { nfdiag: ["files/proc/net/stat/nf_conntrack"], sosreport: ["proc/net/stat/nf_conntrack", "proc/[0-9]*/net/stat/nf_conntrack"] },
    expectedIn: ["nfdiag", "sosreport"],
  },
  {
    id: "conntrack-count",
    description: "entries in the conntrack table (conntrack -C / nf_conntrack_count)",
    parser: "conntrack-count",
    paths: { nfdiag: ["commands/conntrack_-C", "files/proc/sys/net/netfilter/nf_conntrack_count"], sosreport: ["sos_commands/conntrack/conntrack_-C", "proc/sys/net/netfilter/nf_conntrack_count"] },
  },
  {
    id: "conntrack-table",
    description: "the conntrack table itself (/proc/net/nf_conntrack, conntrack -L)",
    parser: "conntrack-table",
    streamable: /(^|\/)(proc\/([0-9]+\/|self\/)?net\/(nf|ip)_conntrack|conntrack_-L[^/]*)$/,
    paths: {
      nfdiag: ["files/proc/net/nf_conntrack", "commands/conntrack_-L_-o_extended", "commands/conntrack_-L"],
      sosreport: ["sos_commands/conntrack/conntrack_-L_-o_extended", "sos_commands/networking/conntrack_-L_-o_extended", "proc/net/nf_conntrack", "proc/[0-9]*/net/nf_conntrack"],
    },
  },
  {
    id: "counter-samples",
    description: "conntrack counters sampled twice by the collector, for rates",
    parser: "proc-stat-nf-conntrack",
    multi: true,
    paths: { nfdiag: ["samples/*/stat_nf_conntrack"] },
  },
  {
    id: "count-samples",
    description: "nf_conntrack_count sampled twice by the collector",
    parser: "conntrack-count",
    multi: true,
    paths: { nfdiag: ["samples/*/nf_conntrack_count"] },
  },
  {
    id: "conntrack-stats-samples",
    description: "conntrack -S sampled twice by the collector",
    parser: "conntrack-stats",
    multi: true,
    paths: { nfdiag: ["samples/*/conntrack_-S"] },
  },
  {
    id: "sample-epochs",
    description: "epoch seconds of each counter sample",
    parser: "single-value",
    multi: true,
    paths: { nfdiag: ["samples/*/epoch"] },
  },
  // Network namespaces
  {
    id: "netns-rules",
    description: "rules inside network namespaces",
    parser: "iptables-save",
    multi: true,
    paths: {
      nfdiag: ["netns/*/commands/iptables-save", "netns/*/commands/iptables-legacy-save", "netns/*/commands/iptables-nft-save"],
      sosreport: ["sos_commands/networking/namespaces/*/ip_netns_exec_*_iptables-save", "sos_commands/networking/ip_netns_exec_*_iptables-save"],
    },
  },
  {
    id: "netns-nft-ruleset",
    description: "nftables rule sets inside network namespaces",
    parser: "nft-ruleset",
    multi: true,
    paths: { nfdiag: ["netns/*/commands/nft_list_ruleset"], sosreport: ["sos_commands/networking/namespaces/*/ip_netns_exec_*_nft_list_ruleset"] },
  },
  {
    id: "netns-conntrack-count",
    description: "conntrack entries per network namespace",
    parser: "conntrack-count",
    multi: true,
    paths: { nfdiag: ["netns/*/files/proc/sys/net/netfilter/nf_conntrack_count", "netns/*/commands/conntrack_-C"] },
  },
  {
    id: "netns-conntrack-stats",
    description: "conntrack counters per network namespace",
    parser: "proc-stat-nf-conntrack",
    multi: true,
    paths: { nfdiag: ["netns/*/files/proc/net/stat/nf_conntrack"] },
  },
  // Memory
  {
    id: "meminfo",
    description: "memory (/proc/meminfo)",
    parser: "meminfo",
    paths: { nfdiag: ["files/proc/meminfo"], sosreport: ["proc/meminfo"], supportconfig: ["memory.txt#*/proc/meminfo"] },
    expectedIn: COLLECTED,
  },
  {
    id: "slabinfo",
    description: "kernel slab caches (/proc/slabinfo)",
    parser: "slabinfo",
    paths: { nfdiag: ["files/proc/slabinfo"], sosreport: ["proc/slabinfo"], supportconfig: ["slabinfo.txt#*/proc/slabinfo", "memory.txt#*/proc/slabinfo"] },
  },
  // Host identity and time
  {
    id: "uname",
    description: "kernel release (uname -a)",
    parser: "uname",
    paths: { nfdiag: ["commands/uname_-a"], sosreport: ["sos_commands/kernel/uname_-a", "uname"], supportconfig: [sc("basic-environment", "*uname -a*")] },
    expectedIn: COLLECTED,
  },
  {
    id: "os-release",
    description: "distribution (/etc/os-release)",
    parser: "os-release",
    paths: { nfdiag: ["files/etc/os-release", "files/usr/lib/os-release"], sosreport: ["etc/os-release", "usr/lib/os-release"], supportconfig: ["basic-environment.txt#*/etc/os-release"] },
  },
  {
    id: "uptime",
    description: "time since boot (/proc/uptime, uptime)",
    parser: "uptime",
    paths: { nfdiag: ["files/proc/uptime"], sosreport: ["proc/uptime", "sos_commands/host/uptime", "uptime"], supportconfig: [sc("basic-environment", "*uptime*")] },
  },
  {
    id: "proc-stat",
    description: "boot time (btime in /proc/stat)",
    parser: "proc-stat",
    paths: { nfdiag: ["files/proc/stat"], sosreport: ["proc/stat"] },
  },
  {
    id: "date",
    description: "the host's clock at collection (date -u)",
    parser: "date",
    paths: { nfdiag: ["commands/date_-u"], sosreport: ["sos_commands/date/date_--utc", "sos_commands/date/date", "date"], supportconfig: [sc("basic-environment", "*date*")] },
  },
  {
    id: "boot-id",
    description: "boot id",
    parser: "single-value",
    paths: { nfdiag: ["files/proc/sys/kernel/random/boot_id"], sosreport: ["proc/sys/kernel/random/boot_id"] },
  },
  // Collection metadata
  {
    id: "collector-manifest",
    description: "nfdiag collector manifest",
    parser: "collector-manifest",
    paths: { nfdiag: ["manifest.json"] },
    expectedIn: ["nfdiag"],
  },
  {
    id: "sos-log",
    description: "sos log (skipped commands and their reasons)",
    parser: "sos-log",
    paths: { sosreport: ["sos_logs/sos.log"] },
    expectedIn: ["sosreport"],
  },
  {
    id: "sos-manifest",
    description: "sos manifest (per-command return codes, timeouts)",
    parser: "sos-manifest",
    paths: { sosreport: ["sos_reports/manifest.json"] },
  },
] as const satisfies readonly SourceSpec[];

export type SourceId = (typeof SOURCES)[number]["id"];
/** The parser key of a source id, at the type level. */
export type ParserOf<I extends SourceId> = Extract<(typeof SOURCES)[number], { id: I }>["parser"];

/** The registry seen as plain specs, for code that walks it at run time. */
export const SOURCE_SPECS: readonly SourceSpec[] = SOURCES;
export const SOURCE_BY_ID: ReadonlyMap<string, SourceSpec> = new Map(SOURCE_SPECS.map((s) => [s.id, s]));

/** The network namespace a per-namespace path belongs to, if any. */
export function netnsOfPath(path: string): string | undefined {
  return /(?:^|\/)netns\/([^/]+)\//.exec(path)?.[1] ?? /ip_netns_exec_([^_/]+)_/.exec(path)?.[1] ?? /namespaces\/([^/]+)\//.exec(path)?.[1];
}
