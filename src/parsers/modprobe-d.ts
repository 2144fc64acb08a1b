/**
 * modprobe configuration: /etc/modprobe.d/*.conf, /usr/lib/modprobe.d/*.conf, /run/modprobe.d
 * (sos: `etc/modprobe.d/*`). Module names are normalised (`-` → `_`) as kmod does.
 *
 * Real sample (etc/modprobe.d/nf_conntrack.conf, Debian 12 sosreport):
 *   options nf_conntrack hashsize=16384
 * Other directives (modprobe.d(5)): `alias nf_conntrack off`, `install nf_conntrack /bin/false`,
 * `blacklist nf_conntrack`, `remove X cmd`, `softdep X pre: a post: b`, `weakdep X a b`.
 * Lines ending in `\` continue on the next line.
 * Lab finding (lab-notes §B): `install X /bin/false` (or /bin/true) stops X loading even as a
 * dependency, while `blacklist X` only stops alias-based autoloading.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, fields, normaliseModuleName, prov, provenanceSchema, skipLine } from "./sys-util.js";

const MAX_DIRECTIVES = 20_000;

const base = { module: z.string(), provenance: provenanceSchema };

export const directiveSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("alias"), ...base, /** the alias (may be a wildcard) */ alias: z.string() }),
  z.object({ kind: z.literal("install"), ...base, command: z.string() }),
  z.object({ kind: z.literal("remove"), ...base, command: z.string() }),
  z.object({ kind: z.literal("blacklist"), ...base }),
  z.object({ kind: z.literal("options"), ...base, params: z.record(z.string(), z.string()), raw: z.string() }),
  z.object({ kind: z.literal("softdep"), ...base, pre: z.array(z.string()), post: z.array(z.string()) }),
  z.object({ kind: z.literal("weakdep"), ...base, deps: z.array(z.string()) }),
]);

export const disabledSchema = z.object({
  module: z.string(),
  how: z.enum(["install-true", "install-false", "install-other-command", "alias-off", "blacklist"]),
  /** Also stops the module loading as a dependency of another (install commands do; blacklist and alias do not). */
  blocksDependencyLoad: z.boolean(),
  provenance: provenanceSchema,
});

export const schema = z.object({
  directives: z.array(directiveSchema),
  /** Derived: ways a module is prevented from loading normally. */
  disabled: z.array(disabledSchema),
});
export type ModprobeDirective = z.infer<typeof directiveSchema>;
export type ModprobeConf = z.infer<typeof schema>;

/** Splits `hashsize=16384 foo="a b" flag` into key/value pairs (a bare word gets value ""). */
export function parseOptions(text: string): Record<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    while (i < text.length && (text[i] === " " || text[i] === "\t")) i++;
    if (i >= text.length) break;
    let key = "";
    while (i < text.length && text[i] !== "=" && text[i] !== " " && text[i] !== "\t") key += text[i++];
    let value = "";
    if (text[i] === "=") {
      i++;
      if (text[i] === '"') {
        i++;
        while (i < text.length && text[i] !== '"') value += text[i++];
        i++;
      } else {
        while (i < text.length && text[i] !== " " && text[i] !== "\t") value += text[i++];
      }
    }
    if (key !== "") out.set(key, value);
  }
  return Object.fromEntries(out);
}

function installHow(command: string): "install-true" | "install-false" | "install-other-command" {
  const first = fields(command)[0] ?? "";
  if (first === "/bin/true" || first === "/usr/bin/true" || first === "true") return "install-true";
  if (first === "/bin/false" || first === "/usr/bin/false" || first === "false") return "install-false";
  return "install-other-command";
}

export const create: ParserFactory<ModprobeConf> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const directives: ModprobeDirective[] = [];
  const disabled: ModprobeConf["disabled"] = [];
  let pending = "";
  let pendingStart = 0;

  function handle(text: string, first: number, last: number): void {
    const p = prov(ctx, first, last);
    const f = fields(text);
    const cmd = f[0] ?? "";
    const mod = f[1] === undefined ? "" : normaliseModuleName(f[1]);
    if (mod === "" && cmd !== "") {
      warnings.add(first, `line ${first}: "${cmd}" without a module name (truncated?)`);
      return;
    }
    if (directives.length >= MAX_DIRECTIVES) return;
    const restAfter = (n: number): string => {
      // text after the first n words, spacing preserved
      let idx = 0;
      for (let k = 0; k < n; k++) {
        while (idx < text.length && (text[idx] === " " || text[idx] === "\t")) idx++;
        while (idx < text.length && text[idx] !== " " && text[idx] !== "\t") idx++;
      }
      return text.slice(idx).trim();
    };
    switch (cmd) {
      case "alias": {
        const target = f[2] === undefined ? "" : normaliseModuleName(f[2]);
        if (target === "") {
          warnings.add(first, `line ${first}: alias without a target (truncated?)`);
          return;
        }
        // "alias X off": modprobe X resolves to a module named "off", which does not exist.
        directives.push({ kind: "alias", alias: mod, module: target, provenance: p });
        if (target === "off") disabled.push({ module: mod, how: "alias-off", blocksDependencyLoad: false, provenance: p });
        return;
      }
      case "install":
      case "remove": {
        const command = restAfter(2);
        if (command === "") {
          warnings.add(first, `line ${first}: ${cmd} without a command (truncated?)`);
          return;
        }
        directives.push({ kind: cmd, module: mod, command, provenance: p });
        if (cmd === "install") {
          const how = installHow(command);
          if (how !== "install-other-command" || !command.includes("modprobe")) {
            disabled.push({ module: mod, how, blocksDependencyLoad: true, provenance: p });
          }
        }
        return;
      }
      case "blacklist":
        directives.push({ kind: "blacklist", module: mod, provenance: p });
        disabled.push({ module: mod, how: "blacklist", blocksDependencyLoad: false, provenance: p });
        return;
      case "options": {
        const raw = restAfter(2);
        directives.push({ kind: "options", module: mod, params: parseOptions(raw), raw, provenance: p });
        return;
      }
      case "softdep": {
        const pre: string[] = [];
        const post: string[] = [];
        let into: string[] | null = null;
        for (const w of f.slice(2)) {
          if (w === "pre:") into = pre;
          else if (w === "post:") into = post;
          else if (into !== null) into.push(normaliseModuleName(w));
        }
        directives.push({ kind: "softdep", module: mod, pre, post, provenance: p });
        return;
      }
      case "weakdep":
        directives.push({ kind: "weakdep", module: mod, deps: f.slice(2).map(normaliseModuleName), provenance: p });
        return;
      default:
        warnings.add(first, `line ${first}: unknown directive "${cmd}"`);
    }
  }

  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings)) {
        pending = "";
        return;
      }
      let text = line;
      if (pending === "") {
        const t = text.trim();
        if (t === "" || t.startsWith("#")) return;
        pendingStart = lineNo;
      }
      text = text.trimEnd();
      if (text.endsWith("\\")) {
        pending += `${text.slice(0, -1)} `;
        if (pending.length > 256 * 1024) {
          warnings.add(pendingStart, `line ${pendingStart}: continued line too long, dropped`);
          pending = "";
        }
        return;
      }
      const full = (pending + text).trim();
      pending = "";
      handle(full, pendingStart, lineNo);
    },
    end() {
      if (pending.trim() !== "") {
        warnings.add(pendingStart, `line ${pendingStart}: continuation at end of file`);
        handle(pending.trim(), pendingStart, pendingStart);
      }
      return { value: { directives, disabled }, warnings: warnings.done() };
    },
  };
};
