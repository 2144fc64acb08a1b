/** Finds the layout of a bundle and maps its files onto the logical sources of the registry. */
import { type Bundle, type StreamedParse, resolveInBundle } from "../bundle/bundle.js";
import { isGlob, virtualGlobToRegExp } from "./glob.js";
import type { Layout } from "./layouts.js";
import { classifyText, cleanPaste, splitAtPrompts } from "./loose.js";
import { SOURCE_SPECS, type SourceSpec, netnsOfPath } from "./registry.js";
import { isSupportconfigTopic, splitSupportconfig } from "./supportconfig.js";

/** One file (or one block of a file) that feeds a source. */
export interface SourceFile {
  sourceId: string;
  /** Path inside the bundle, as evidence cites it. */
  path: string;
  /** The registry candidate that matched, for the `sources` listing. */
  candidate: string;
  size: number;
  /** Text to parse, or the result of a parse already run while streaming. */
  text?: string;
  streamed?: StreamedParse;
  /** Add to parser line numbers to get the line in `path` (blocks of supportconfig or pastes). */
  lineOffset: number;
  truncated?: string;
  netns?: string;
}

export interface ResolvedBundle {
  layout: Layout;
  /** Folder inside the bundle that the layout's paths are relative to ("" for the top). */
  root: string;
  /** Extra detail: sos version, collector version. */
  layoutDetail?: string;
  sources: Map<string, SourceFile[]>;
  /** Per source, the candidates looked for when it is absent. */
  lookedFor: Map<string, string[]>;
}

export function detectLayout(bundle: Pick<Bundle, "files">): { layout: Layout; root: string } {
  const paths = [...bundle.files.keys()];
  const rootOf = (marker: RegExp): string | undefined => {
    let best: string | undefined;
    for (const p of paths) {
      const m = marker.exec(p);
      if (m && (best === undefined || m[1]!.length < best.length)) best = m[1];
    }
    return best;
  };
  const nfdiag = rootOf(/^(|.*\/)manifest\.json$/);
  if (nfdiag !== undefined && paths.some((p) => p.startsWith(`${nfdiag}commands/`) || p.startsWith(`${nfdiag}files/`)))
    return { layout: "nfdiag", root: nfdiag.replace(/\/$/, "") };
  const sos = rootOf(/^(|.*?\/)sos_(?:commands|reports|logs)\//);
  if (sos !== undefined) return { layout: "sosreport", root: sos.replace(/\/$/, "") };
  const scc = rootOf(/^(|.*\/)(?:basic-environment|supportconfig)\.txt$/);
  if (scc !== undefined) return { layout: "supportconfig", root: scc.replace(/\/$/, "") };
  return { layout: "loose", root: "" };
}

export function resolveSources(bundle: Bundle): ResolvedBundle {
  const { layout, root } = detectLayout(bundle);
  const sources = new Map<string, SourceFile[]>();
  const lookedFor = new Map<string, string[]>();
  const add = (f: SourceFile): void => {
    const list = sources.get(f.sourceId) ?? [];
    list.push(f);
    sources.set(f.sourceId, list);
  };

  if (layout === "loose") {
    for (const file of bundle.files.values()) {
      if (file.streamed) {
        add({ sourceId: file.streamed.sourceId, path: file.path, candidate: "(content)", size: file.size, streamed: file.streamed, lineOffset: 0, ...(file.truncated ? { truncated: file.truncated } : {}) });
        continue;
      }
      for (const section of splitAtPrompts(file.path, cleanPaste(file.text ?? ""))) {
        const sourceId = classifyText(section.text);
        if (!sourceId) continue;
        add({ sourceId, path: file.path, candidate: section.key === file.path ? "(content)" : `(content after prompt: ${section.key.slice(file.path.length + 1)})`, size: section.text.length, text: section.text, lineOffset: section.lineOffset, ...(file.truncated ? { truncated: file.truncated } : {}) });
      }
    }
    return { layout, root, sources, lookedFor };
  }

  const prefix = root ? `${root}/` : "";
  // Supportconfig blocks become virtual files `<topic>.txt#<title>`.
  const virtual = new Map<string, { path: string; text: string; lineOffset: number }>();
  if (layout === "supportconfig") {
    for (const file of bundle.files.values()) {
      const rel = file.path.slice(prefix.length);
      if (!file.path.startsWith(prefix) || !isSupportconfigTopic(rel)) continue;
      const text = file.text ?? "";
      virtual.set(rel, { path: file.path, text, lineOffset: 0 });
      for (const s of splitSupportconfig(rel, text)) virtual.set(s.key, { path: file.path, text: s.text, lineOffset: s.lineOffset });
    }
  }
  const relPaths = [...bundle.files.keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
  const candidates = [...relPaths, ...virtual.keys()];

  for (const spec of SOURCE_SPECS) {
    const patterns = spec.paths[layout] ?? [];
    const matches = matchCandidates(spec, patterns, candidates, (p) => resolveInBundle(bundle, prefix + p) !== undefined);
    if (matches.length === 0) {
      lookedFor.set(spec.id, [...patterns]);
      continue;
    }
    for (const { rel, pattern } of matches) {
      const v = virtual.get(rel);
      if (v) {
        add({ sourceId: spec.id, path: v.path, candidate: pattern, size: v.text.length, text: v.text, lineOffset: v.lineOffset });
        continue;
      }
      const real = resolveInBundle(bundle, prefix + rel);
      const file = real ? bundle.files.get(real) : undefined;
      if (!file) continue;
      const netns = netnsOfPath(rel);
      add({
        sourceId: spec.id,
        path: file.path,
        candidate: pattern,
        size: file.size,
        lineOffset: 0,
        ...(file.streamed ? { streamed: file.streamed } : { text: file.text ?? "" }),
        ...(file.truncated ? { truncated: file.truncated } : {}),
        ...(netns ? { netns } : {}),
      });
    }
  }
  return { layout, root, sources, lookedFor };
}

function matchCandidates(
  spec: SourceSpec,
  patterns: readonly string[],
  candidates: string[],
  existsViaLinks: (p: string) => boolean,
): { rel: string; pattern: string }[] {
  const found: { rel: string; pattern: string }[] = [];
  const seen = new Set<string>();
  for (const pattern of patterns) {
    let hits: string[];
    if (isGlob(pattern)) {
      const re = virtualGlobToRegExp(pattern);
      hits = candidates.filter((c) => re.test(c)).sort();
    } else hits = candidates.includes(pattern) || existsViaLinks(pattern) ? [pattern] : [];
    for (const rel of hits) {
      if (seen.has(rel)) continue;
      seen.add(rel);
      found.push({ rel, pattern });
    }
    if (!spec.multi && found.length > 0) return found.slice(0, 1);
  }
  return found;
}
