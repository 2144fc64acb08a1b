/**
 * The notices iptables-nft prints around its output (sos captures them with stdout), real samples:
 *   # Warning: iptables-legacy tables present, use iptables-legacy-save to see them
 *   # Warning: iptables-legacy tables present, use iptables-legacy to see them
 *   # Table `filter' contains incompatible base-chains, use 'nft' tool to list them.
 *   # Table `filter' is incompatible, use 'nft' tool.
 *   iptables v1.8.9 (nf_tables): table `filter' is incompatible, use 'nft' tool.
 * and, from iptables 1.8.10 (kernel-facts.md §4):
 *   iptables v1.8.10 (nf_tables): chain `INPUT' in table `filter' is incompatible, use 'nft' tool.
 */
import { z } from "zod";
import { provenanceSchema } from "./text.js";

export const iptablesNoticeSchema = z.object({
  kind: z.enum(["legacy-tables-present", "table-incompatible", "incompatible-base-chains", "chain-incompatible"]),
  table: z.string().optional(),
  chain: z.string().optional(),
  /** e.g. "iptables v1.8.9 (nf_tables)" when the notice carried the tool prefix. */
  tool: z.string().optional(),
  text: z.string(),
  provenance: provenanceSchema,
});
export type IptablesNotice = z.infer<typeof iptablesNoticeSchema>;

/** Text between a backtick and the next apostrophe: `filter' → filter. */
function quotedName(line: string, from: number): string | undefined {
  const open = line.indexOf("`", from);
  if (open < 0) return undefined;
  const close = line.indexOf("'", open + 1);
  return close < 0 ? undefined : line.slice(open + 1, close);
}

/** Recognises one notice line; undefined for anything else. Cheap prefix checks first. */
export function parseIptablesNotice(
  line: string,
  path: string,
  lineNo: number,
): IptablesNotice | undefined {
  const provenance = { path, line: lineNo };
  const text = line.trim();
  if (text.startsWith("# Warning: iptables-legacy tables present")) {
    return { kind: "legacy-tables-present", text, provenance };
  }
  if (text.startsWith("# Table `")) {
    const table = quotedName(text, 0);
    if (text.includes("incompatible base-chains")) {
      return { kind: "incompatible-base-chains", ...(table ? { table } : {}), text, provenance };
    }
    if (text.includes("is incompatible")) {
      return { kind: "table-incompatible", ...(table ? { table } : {}), text, provenance };
    }
    return undefined;
  }
  if ((text.startsWith("iptables") || text.startsWith("ip6tables")) && text.includes("is incompatible, use 'nft' tool")) {
    const colon = text.indexOf("): ");
    const tool = colon > 0 ? text.slice(0, colon + 1) : undefined;
    const body = colon > 0 ? text.slice(colon + 3) : text;
    if (body.startsWith("chain `")) {
      const chain = quotedName(body, 0);
      const tableAt = body.indexOf("in table `");
      const table = tableAt >= 0 ? quotedName(body, tableAt) : undefined;
      return {
        kind: "chain-incompatible",
        ...(chain ? { chain } : {}),
        ...(table ? { table } : {}),
        ...(tool ? { tool } : {}),
        text,
        provenance,
      };
    }
    if (body.startsWith("table `")) {
      const table = quotedName(body, 0);
      return { kind: "table-incompatible", ...(table ? { table } : {}), ...(tool ? { tool } : {}), text, provenance };
    }
  }
  return undefined;
}

/** Built-in chains per iptables table (policy lines carry a policy instead of "-"). */
export const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  filter: ["INPUT", "FORWARD", "OUTPUT"],
  nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
  mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
  raw: ["PREROUTING", "OUTPUT"],
  security: ["INPUT", "FORWARD", "OUTPUT"],
};

export const ALL_BUILTIN_CHAIN_NAMES: ReadonlySet<string> = new Set([
  "PREROUTING",
  "INPUT",
  "FORWARD",
  "OUTPUT",
  "POSTROUTING",
]);

/** Standard verdicts: targets that are not chains. */
export const VERDICT_TARGETS: ReadonlySet<string> = new Set(["ACCEPT", "DROP", "RETURN", "QUEUE"]);
