/** Commands a collector deliberately did not run, with its reason: absent output is not "no rules". */
import type { SosLog } from "../parsers/sos-log.js";
import type { ParsedSources } from "../sources/parse.js";

interface ManifestCommandLike {
  argv?: string[] | string;
  skipped?: boolean | string | null;
  reason?: string | null;
  skipReason?: string | null;
}

/** Command line → reason. */
export function skippedCommands(parsed: ParsedSources): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of parsed.get("sos-log") ?? []) {
    for (const s of (p.value as SosLog).skipped) out.set(s.command, `sos skipped \`${s.command}\`: ${s.reason} (${p.path}:${s.provenance.line})`);
  }
  for (const p of parsed.get("collector-manifest") ?? []) {
    const commands = (p.value as { commands?: ManifestCommandLike[] }).commands ?? [];
    for (const c of commands) {
      if (!c.skipped) continue;
      const argv = Array.isArray(c.argv) ? c.argv.join(" ") : (c.argv ?? "");
      const reason = c.skipReason ?? c.reason ?? (typeof c.skipped === "string" ? c.skipped : "skipped");
      out.set(argv, `the collector skipped \`${argv}\`: ${reason}`);
    }
  }
  return out;
}
