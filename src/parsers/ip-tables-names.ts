/**
 * /proc/net/ip_tables_names, ip_tables_matches, ip_tables_targets and the ip6_ ones (sos: `proc/net/…`,
 * in sos 4.0 `proc/<pid>/net/…`): one name per line. `ip_tables_names` lists the **legacy** (x_tables)
 * tables in use: a non-empty file next to iptables-nft rules means mixed backends; an empty file
 * means no legacy tables. Matches and targets repeat once per revision.
 *
 * Real sample (this lab, a namespace after `iptables-legacy -A INPUT … -m conntrack` and
 * `iptables-legacy -t nat -A POSTROUTING -j MASQUERADE`):
 *   nat
 *   filter
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const schema = z.object({
  family: z.enum(["ipv4", "ipv6"]).nullable(),
  list: z.enum(["names", "matches", "targets"]).nullable(),
  /** Distinct names in order of first appearance, with how many times each appears (revisions). */
  entries: z.array(z.object({ name: z.string(), occurrences: z.number().int(), provenance: provenanceSchema })),
});
export type IpTablesNames = z.infer<typeof schema>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

export function listOfPath(path: string): { family: IpTablesNames["family"]; list: IpTablesNames["list"] } {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const m = /^(ip6?)_tables_(names|matches|targets)$/.exec(base);
  if (m?.[1] === undefined || m[2] === undefined) return { family: null, list: null };
  return { family: m[1] === "ip6" ? "ipv6" : "ipv4", list: m[2] as "names" | "matches" | "targets" };
}

export const create: ParserFactory<IpTablesNames> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const byName = new Map<string, IpTablesNames["entries"][number]>();
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      if (!NAME.test(text)) {
        warnings.add(lineNo, `line ${lineNo}: not a table, match or target name`);
        return;
      }
      const seen = byName.get(text);
      if (seen !== undefined) seen.occurrences++;
      else if (byName.size < 10_000) byName.set(text, { name: text, occurrences: 1, provenance: prov(ctx, lineNo) });
    },
    end() {
      return { value: { ...listOfPath(ctx.path), entries: [...byName.values()] }, warnings: warnings.done() };
    },
  };
};
