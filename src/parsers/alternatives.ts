/**
 * `update-alternatives --display iptables` (Debian/Ubuntu, dpkg) and `alternatives --display iptables`
 * (RHEL/Fedora, chkconfig) — sos: `sos_commands/alternatives/*`. Tells which iptables the `iptables`
 * command runs, hence the backend (iptables-nft → nf_tables, iptables-legacy → x_tables).
 *
 * Real sample (this lab, Debian 12, dpkg 1.21):
 *   iptables - auto mode
 *     link best version is /usr/sbin/iptables-nft
 *     link currently points to /usr/sbin/iptables-nft
 *     link iptables is /usr/sbin/iptables
 *     slave iptables-restore is /usr/sbin/iptables-restore
 *   /usr/sbin/iptables-legacy - priority 10
 *     slave iptables-restore: /usr/sbin/iptables-legacy-restore
 * RHEL (chkconfig) prints `iptables - status is auto.`, ` link currently points to …`,
 * ` slave|follower name: path` and `Current `best' version is /usr/sbin/iptables-nft.`
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const choiceSchema = z.object({
  path: z.string(),
  priority: z.number().int().nullable(),
  followers: z.record(z.string(), z.string()),
  provenance: provenanceSchema,
});

export const groupSchema = z.object({
  name: z.string(),
  mode: z.enum(["auto", "manual"]).nullable(),
  current: z.string().nullable(),
  best: z.string().nullable(),
  /** Backend of the current target (by its name), `unknown` when the target says nothing. */
  backend: z.enum(["nf_tables", "legacy", "unknown"]),
  choices: z.array(choiceSchema),
  provenance: provenanceSchema,
});

export const schema = z.object({
  groups: z.array(groupSchema),
  /** `update-alternatives: error: no alternatives for iptables` and similar. */
  errors: z.array(z.object({ message: z.string(), provenance: provenanceSchema })),
});
export type AlternativesGroup = z.infer<typeof groupSchema>;
export type Alternatives = z.infer<typeof schema>;

export function backendOfPath(path: string | null): AlternativesGroup["backend"] {
  if (path === null) return "unknown";
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (base.includes("-nft") || base.includes("xtables-nft")) return "nf_tables";
  if (base.includes("-legacy") || base.includes("xtables-legacy")) return "legacy";
  return "unknown";
}

const HEADER = /^(\S{1,200}) - (?:(auto|manual) mode|status is (auto|manual)\.?)$/;
const CHOICE = /^(\/\S{0,500}) - (?:family \S+ )?priority (-?\d{1,9})$/;
const FOLLOWER = /^(?:slave|follower) (\S{1,200}): (.*)$/;

export const create: ParserFactory<Alternatives> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const groups: AlternativesGroup[] = [];
  const errors: Alternatives["errors"] = [];
  let group: AlternativesGroup | null = null;
  let choice: z.infer<typeof choiceSchema> | null = null;
  let followers = new Map<string, string>();

  function closeChoice(): void {
    if (choice !== null && group !== null) {
      choice.followers = Object.fromEntries(followers);
      group.choices.push(choice);
    }
    choice = null;
    followers = new Map();
  }
  function closeGroup(): void {
    closeChoice();
    if (group !== null) {
      group.backend = backendOfPath(group.current);
      groups.push(group);
    }
    group = null;
  }

  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      if (text.includes("error:") || text.startsWith("alternatives:") || text.includes("no alternatives for")) {
        errors.push({ message: text, provenance: prov(ctx, lineNo) });
        return;
      }
      const h = HEADER.exec(text);
      if (h?.[1] !== undefined) {
        closeGroup();
        const mode = (h[2] ?? h[3]) as "auto" | "manual";
        group = { name: h[1], mode, current: null, best: null, backend: "unknown", choices: [], provenance: prov(ctx, lineNo) };
        return;
      }
      if (group === null) {
        warnings.add(lineNo, `line ${lineNo}: text before any alternatives header`);
        return;
      }
      const g: AlternativesGroup = group;
      if (text.startsWith("link currently points to ")) {
        g.current = text.slice("link currently points to ".length).trim();
        return;
      }
      if (text.startsWith("link best version is ")) {
        g.best = text.slice("link best version is ".length).trim();
        return;
      }
      if (text.startsWith("Current `best' version is ")) {
        g.best = text.slice("Current `best' version is ".length).replace(/\.$/, "").trim();
        return;
      }
      if (text === "link currently absent") return;
      const c = CHOICE.exec(text);
      if (c?.[1] !== undefined && c[2] !== undefined) {
        closeChoice();
        choice = { path: c[1], priority: Number(c[2]), followers: {}, provenance: prov(ctx, lineNo) };
        return;
      }
      const f = FOLLOWER.exec(text);
      if (f?.[1] !== undefined && f[2] !== undefined) {
        if (choice !== null) followers.set(f[1], f[2].trim());
        return; // followers of the group itself ("slave x is /path") are not choices
      }
      if (/^(?:link|slave|follower) \S+ is /.test(text)) return;
      warnings.add(lineNo, `line ${lineNo}: unrecognised alternatives line (truncated?)`);
    },
    end() {
      closeGroup();
      for (const g of groups) {
        if (g.current === null) warnings.add(g.provenance.line, `alternatives group ${g.name}: no current link`);
      }
      return { value: { groups, errors }, warnings: warnings.done() };
    },
  };
};
