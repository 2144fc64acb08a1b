/** Commands a collector deliberately did not run, with its reason: absent output is not "no rules". */
import type { CollectorManifest } from "../parsers/collector-manifest.js";
import type { SosLog } from "../parsers/sos-log.js";
import type { ParsedSources } from "../sources/parse.js";


/** Command line → reason. */
export function skippedCommands(parsed: ParsedSources): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of parsed.get("sos-log") ?? []) {
    for (const s of (p.value as SosLog).skipped) out.set(s.command, `sos skipped \`${s.command}\`: ${s.reason} (${p.path}:${s.provenance.line})`);
  }
  for (const p of parsed.get("collector-manifest") ?? []) {
    for (const c of (p.value as CollectorManifest).commands) {
      if (!c.skipped) continue;
      const argv = c.argv.join(" ");
      // The output path names the command the way the registry does (commands/nft_list_ruleset).
      out.set(c.output.split("/").pop() ?? argv, `the collector did not run \`${argv}\`: ${c.skip_reason ?? "skipped"}`);
    }
  }
  return out;
}
