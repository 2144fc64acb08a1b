/**
 * /etc/os-release or /usr/lib/os-release (sos: `etc/os-release`): distribution identity.
 * Shell-style KEY=value with optional double or single quotes (os-release(5)).
 *
 * Real sample (Debian 12, base-files 12.4, /usr/lib/os-release):
 *   PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
 *   VERSION_ID="12"
 *   ID=debian
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const schema = z.object({
  fields: z.record(z.string(), z.object({ value: z.string(), provenance: provenanceSchema })),
  id: z.string().nullable(),
  versionId: z.string().nullable(),
  prettyName: z.string().nullable(),
  /** ID_LIKE split on spaces, e.g. ["rhel", "centos", "fedora"]. */
  idLike: z.array(z.string()),
});
export type OsRelease = z.infer<typeof schema>;

const KEY = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Removes one level of shell quoting: "a \"b\"" → a "b"; 'x' → x; unquoted kept. Null if unterminated. */
export function unquote(v: string): string | null {
  if (v.startsWith('"')) {
    if (v.length < 2 || !v.endsWith('"') || v.endsWith('\\"') && !v.endsWith('\\\\"')) return null;
    let out = "";
    const body = v.slice(1, -1);
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c === "\\" && i + 1 < body.length && '"\\$`'.includes(body[i + 1] ?? "")) {
        out += body[i + 1];
        i++;
      } else out += c;
    }
    return out;
  }
  if (v.startsWith("'")) {
    if (v.length < 2 || !v.endsWith("'")) return null;
    return v.slice(1, -1);
  }
  return v;
}

export const create: ParserFactory<OsRelease> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  const map = new Map<string, { value: string; provenance: z.infer<typeof provenanceSchema> }>();
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "" || text.startsWith("#")) return;
      const eq = text.indexOf("=");
      const key = eq > 0 ? text.slice(0, eq) : "";
      if (!KEY.test(key)) {
        warnings.add(lineNo, `line ${lineNo}: not a KEY=value line`);
        return;
      }
      const value = unquote(text.slice(eq + 1));
      if (value === null) {
        warnings.add(lineNo, `line ${lineNo}: unterminated quote in ${key} (truncated?)`);
        return;
      }
      if (map.size < 500) map.set(key, { value, provenance: prov(ctx, lineNo) });
    },
    end() {
      const get = (k: string): string | null => map.get(k)?.value ?? null;
      const idLike = (get("ID_LIKE") ?? "").split(" ").filter((s) => s !== "");
      return {
        value: { fields: Object.fromEntries(map), id: get("ID"), versionId: get("VERSION_ID"), prettyName: get("PRETTY_NAME"), idLike },
        warnings: warnings.done(),
      };
    },
  };
};
