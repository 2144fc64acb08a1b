import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import * as sosLog from "../../src/parsers/sos-log.js";
import * as manifest from "../../src/parsers/sos-manifest.js";

describe("sos.log", () => {
  it("reads the real sos 4.0 log: skipped commands with missing kmods, command line, window", () => {
    const { value, warnings } = run(sosLog.create, fixture("sos.log.sos"), "sos_logs/sos.log");
    expect(warnings).toEqual([]);
    expect(value.commandLine).toBe("sos report --batch --all-logs -k process.lsof=off -o networking,kernel,logs,process,memory --tmp-dir /root/sos");
    expect(value.skipped).toEqual([
      expect.objectContaining({ plugin: "networking", command: "ip -s macsec show", missingKmods: ["macsec"], provenance: { path: "sos_logs/sos.log", line: 8 } }),
      expect.objectContaining({ command: "ss -peaonmi", missingKmods: ["af_packet_diag", "netlink_diag", "inet_diag", "udp_diag", "tcp_diag", "unix_diag"] }),
    ]);
    expect(value.skipped[0]?.reason).toContain("--allow-system-changes");
    expect(value.collectedCommands).toEqual({ networking: 3 });
    expect(value.firstTime).toBe("2026-11-22 06:40:54.519");
    expect(value.lastTime).toBe("2026-11-22 06:40:54.928");
  });

  it("reads the nft skip of a built-in kernel, timeouts and plugin errors with tracebacks", () => {
    const text = [
      "2026-11-22 06:40:54,926 WARNING: [plugin:networking] skipped command 'nft list ruleset': required kmods missing: nf_tables, nfnetlink. Use '--allow-system-changes' to enable collection.",
      "2026-11-22 06:41:54,000 WARNING: [plugin:conntrack] command 'conntrack -L -o extended' timed out after 300s",
      "2026-11-22 06:42:00,000 ERROR: Plugin networking timed out",
      '2026-11-22 06:42:01,000 ERROR: caught exception in plugin method "firewall_tables.collect()"',
      "Traceback (most recent call last):",
      '  File "/usr/lib/python3/dist-packages/sos/report/__init__.py", line 1, in collect',
      "2026-11-22 06:42:02,000 WARNING: [plugin:logs] skipped command 'journalctl': required services missing: systemd-journald.",
    ].join("\n");
    const { value } = run(sosLog.create, text);
    expect(value.skipped[0]).toMatchObject({ command: "nft list ruleset", missingKmods: ["nf_tables", "nfnetlink"] });
    expect(value.skipped[1]).toMatchObject({ command: "journalctl", missingServices: ["systemd-journald"], missingKmods: [] });
    expect(value.timeouts).toEqual([
      { plugin: "conntrack", command: "conntrack -L -o extended", seconds: 300, provenance: { path: "test/input", line: 2 } },
      { plugin: "networking", command: null, seconds: null, provenance: { path: "test/input", line: 3 } },
    ]);
    expect(value.errors).toEqual([{ plugin: null, level: "ERROR", message: 'caught exception in plugin method "firewall_tables.collect()"', provenance: { path: "test/input", line: 4, lastLine: 6 } }]);
  });

  it("a skipped line cut inside the command is warned", () => {
    const { value, warnings } = run(sosLog.create, "2026-11-22 06:40:54,926 WARNING: [plugin:networking] skipped command 'nft li");
    expect(value.skipped).toEqual([]);
    expect(warnings[0]?.line).toBe(1);
  });
});

describe("sos manifest.json", () => {
  it("reads the real sos 4.0 manifest", () => {
    const { value, warnings } = run(manifest.create, fixture("manifest.sos.json"), "sos_reports/manifest.json");
    expect(warnings).toEqual([]);
    expect(value).toMatchObject({ sosVersion: "4.0", policy: "Debian", startTime: "2026-11-22 06:40:52.401788", schemaOk: true });
    expect(value.plugins.map((p) => [p.name, p.commandCount, p.timeoutHit])).toEqual([
      ["kernel", 4, false],
      ["networking", 4, false],
    ]);
    const lsmod = value.commands.find((c) => c.exec === "lsmod");
    expect(lsmod).toMatchObject({ plugin: "kernel", filepath: "sos_commands/kernel/lsmod", returnCode: 0, timeoutHit: false, truncated: null, notFound: false });
    const dkms = value.commands.find((c) => c.exec === "dkms status");
    expect(dkms).toMatchObject({ returnCode: 127, notFound: true, filepath: null });
    // provenance points at the "exec" line of each command
    const lines = fixture("manifest.sos.json").split("\n"); // the text split into lines; not a test call
    for (const c of value.commands) expect(lines[c.provenance.line - 1]).toContain(`"exec": "${c.exec}"`);
    expect(value.plugins[0]?.filesCopied).toEqual(["proc/modules"]);
  });

  it("later sos 4.x fields: truncated, timeout exit code 124, tailed files", () => {
    const doc = {
      version: "4.7.2",
      components: {
        report: {
          plugins: {
            conntrack: {
              timeout_hit: true,
              commands: [{ exec: "conntrack -L -o extended", filepath: "sos_commands/conntrack/conntrack_-L_-o_extended", return_code: 124, truncated: true }],
              files: [{ specification: "/var/log/messages", files_copied: ["sos_strings/logs/var.log.messages.tailed"] }],
            },
          },
        },
      },
    };
    const { value } = run(manifest.create, JSON.stringify(doc, null, 4));
    expect(value.commands[0]).toMatchObject({ timeoutHit: true, truncated: true });
    expect(value.plugins[0]).toMatchObject({ timeoutHit: true, tailedFiles: ["sos_strings/logs/var.log.messages.tailed"] });
  });

  it("a schema mismatch still yields what can be read, with a warning", () => {
    const { value, warnings } = run(manifest.create, JSON.stringify({ version: 4, components: { report: { plugins: { kernel: { commands: [{ exec: "uname -a", return_code: 0 }] } } } } }));
    expect(value.schemaOk).toBe(false);
    expect(value.sosVersion).toBeNull();
    expect(value.commands.map((c) => c.exec)).toEqual(["uname -a"]);
    expect(warnings[0]?.message).toContain("does not match");
  });

  it("a truncated manifest keeps the commands before the cut", () => {
    const text = fixture("manifest.sos.json");
    const cut = text.slice(0, text.indexOf('"exec": "ethtool -d lo"'));
    const { value, warnings } = run(manifest.create, cut);
    expect(value.schemaOk).toBe(false);
    expect(value.commands.map((c) => c.exec)).toEqual(["uname -a", "lsmod", "sysctl -a", "dkms status", "iptables -t nat -nvL", "nft list ruleset", "iptables -vnxL"]);
    expect(warnings[0]?.message).toContain("last complete value");
  });

  it("not JSON at all gives an empty value and a warning", () => {
    const { value, warnings } = run(manifest.create, "sosreport version 3.9\n");
    expect(value.commands).toEqual([]);
    expect(warnings).toHaveLength(1);
  });
});
