/**
 * Reads `ipset save` and `ipset list` / `ipset list -t` (ipset 6.x/7.x). Real samples (ipset 7.17):
 *
 *   create blocklist hash:ip family inet hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x12640018
 *   add blocklist 192.0.2.1 timeout 0 comment "entry 1"
 *
 *   Name: blocklist
 *   Type: hash:ip
 *   Revision: 6
 *   Header: family inet hashsize 1024 maxelem 65536 timeout 0 comment bucketsize 12 initval 0x12640018
 *   Size in memory: 3357
 *   References: 2
 *   Number of entries: 30
 *   Members:
 *   192.0.2.1 timeout 0 comment "entry 1"
 *
 * Members are counted; at most MAX_MEMBER_SAMPLES per set are kept.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, clip, isBinaryGarbage, parseUint, prov, provenanceSchema, tokenize } from "./rules/text.js";

export const MAX_MEMBER_SAMPLES = 1000;

export const ipsetSchema = z.object({
  name: z.string(),
  type: z.string().optional(),
  revision: z.number().optional(),
  family: z.string().optional(),
  hashsize: z.number().optional(),
  maxelem: z.number().optional(),
  /** Default timeout of the set in seconds (0 = entries may carry their own, none by default). */
  timeout: z.number().optional(),
  /** list:set size / bitmap range, as printed. */
  size: z.number().optional(),
  range: z.string().optional(),
  /** All header options as written (`counters`, `comment`, `skbinfo`, `bucketsize`, `initval`…). */
  options: z.record(z.string(), z.string()),
  sizeInMemory: z.number().optional(),
  references: z.number().optional(),
  /** `Number of entries:` as printed by `ipset list` (kernel count). */
  entriesDeclared: z.number().optional(),
  /** Members counted in this file (add lines or Members: lines). */
  entries: z.number(),
  members: z.array(z.string()),
  membersTruncated: z.boolean(),
  /** Set full: entries (declared or counted) reached maxelem. */
  full: z.boolean(),
  provenance: provenanceSchema,
});
export type Ipset = z.infer<typeof ipsetSchema>;

export const schema = z.object({
  format: z.enum(["save", "list", "empty"]),
  sets: z.array(ipsetSchema),
  totals: z.object({ sets: z.number(), entries: z.number() }),
});
export type IpsetOutput = z.infer<typeof schema>;

const NUMERIC: ReadonlySet<string> = new Set(["hashsize", "maxelem", "timeout", "size", "netmask", "bucketsize", "markmask"]);
const FLAGS: ReadonlySet<string> = new Set(["counters", "comment", "skbinfo", "forceadd", "nomatch"]);

function applyHeader(set: Ipset, words: string[]): void {
  for (let i = 0; i < words.length; i++) {
    const k = words[i]!;
    if (FLAGS.has(k)) {
      set.options[k] = "";
      continue;
    }
    const v = words[i + 1];
    if (v === undefined) {
      set.options[k] = "";
      continue;
    }
    set.options[k] = v;
    i++;
    if (k === "family") set.family = v;
    else if (k === "range") set.range = v;
    else if (NUMERIC.has(k)) {
      const n = parseUint(v);
      if (n === undefined) continue;
      if (k === "hashsize") set.hashsize = n;
      else if (k === "maxelem") set.maxelem = n;
      else if (k === "timeout") set.timeout = n;
      else if (k === "size") set.size = n;
    }
  }
}

export const create: ParserFactory<IpsetOutput> = (ctx) => {
  const path = ctx.path;
  const warnings = new WarningSink(path);
  const sets: Ipset[] = [];
  const byName = new Map<string, Ipset>();
  let format: IpsetOutput["format"] = "empty";
  let cur: Ipset | undefined;
  let inMembers = false;
  let lastLine = 0;

  const newSet = (name: string, lineNo: number): Ipset => {
    const set: Ipset = { name, options: {}, entries: 0, members: [], membersTruncated: false, full: false, provenance: { path, line: lineNo } };
    sets.push(set);
    byName.set(name, set);
    return set;
  };
  const addMember = (set: Ipset, text: string, lineNo: number) => {
    set.entries++;
    if (set.members.length < MAX_MEMBER_SAMPLES) set.members.push(clip(text));
    else set.membersTruncated = true;
    set.provenance = prov(path, set.provenance.line, lineNo);
  };

  return {
    push(line, lineNo) {
      lastLine = lineNo;
      if (line.length === 0) {
        inMembers = false;
        return;
      }
      if (isBinaryGarbage(line)) {
        warnings.add("binary data skipped", lineNo);
        return;
      }
      // save format
      if (line.startsWith("add ")) {
        format = "save";
        const sp = line.indexOf(" ", 4);
        const name = sp < 0 ? line.slice(4) : line.slice(4, sp);
        const set = byName.get(name);
        if (!set) {
          warnings.add(`add line for set ${name} that was not created`, lineNo);
          return;
        }
        addMember(set, sp < 0 ? "" : line.slice(sp + 1), lineNo);
        return;
      }
      if (line.startsWith("create ")) {
        format = "save";
        const words = tokenize(line).map((t) => t.text);
        const name = words[1];
        if (!name) {
          warnings.add("create line without a set name", lineNo);
          return;
        }
        const set = newSet(name, lineNo);
        if (words[2]) set.type = words[2];
        applyHeader(set, words.slice(3));
        return;
      }
      if (inMembers && cur) {
        if (line.startsWith("Name: ")) inMembers = false;
        else {
          addMember(cur, line.trim(), lineNo);
          return;
        }
      }
      const colon = line.indexOf(": ");
      const key = colon > 0 ? line.slice(0, colon) : line.endsWith(":") ? line.slice(0, -1) : undefined;
      const value = colon > 0 ? line.slice(colon + 2).trim() : "";
      if (key === "Name") {
        format = "list";
        cur = newSet(value, lineNo);
        inMembers = false;
        return;
      }
      if (key !== undefined && cur) {
        switch (key) {
          case "Type":
            cur.type = value;
            break;
          case "Revision": {
            const n = parseUint(value);
            if (n !== undefined) cur.revision = n;
            break;
          }
          case "Header":
            applyHeader(cur, tokenize(value).map((t) => t.text));
            break;
          case "Size in memory": {
            const n = parseUint(value);
            if (n !== undefined) cur.sizeInMemory = n;
            break;
          }
          case "References": {
            const n = parseUint(value);
            if (n !== undefined) cur.references = n;
            break;
          }
          case "Number of entries": {
            const n = parseUint(value);
            if (n !== undefined) cur.entriesDeclared = n;
            break;
          }
          case "Members":
            inMembers = true;
            break;
          default:
            warnings.add(`unknown field ${clip(key).slice(0, 60)}`, lineNo);
        }
        cur.provenance = prov(path, cur.provenance.line, lineNo);
        return;
      }
      if (line.startsWith("ipset v")) {
        warnings.add(`ipset error in the capture: ${clip(line)}`, lineNo);
        return;
      }
      warnings.add("unrecognised line", lineNo);
    },
    end() {
      void lastLine;
      let entries = 0;
      for (const s of sets) {
        const n = s.entriesDeclared ?? s.entries;
        entries += n;
        if (s.maxelem !== undefined && n >= s.maxelem) s.full = true;
        if (s.entriesDeclared !== undefined && format === "list" && s.entries > 0 && s.entries !== s.entriesDeclared) {
          warnings.add(`set ${s.name}: ${s.entries} members listed but ${s.entriesDeclared} declared (cut short?)`, s.provenance.lastLine ?? s.provenance.line);
        }
      }
      return { value: { format, sets, totals: { sets: sets.length, entries } }, warnings: warnings.finish() };
    },
  };
};
