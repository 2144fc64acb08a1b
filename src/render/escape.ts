/**
 * Escaping and cutting helpers shared by the renderers. Everything that comes from a bundle is
 * untrusted: it goes through Handlebars' `{{ }}`, through `escapeXml` (markup built in code), through
 * the Markdown escapers below, or through `sanitizeTerminal`.
 */

/** Escapes text for HTML/SVG element content and double- or single-quoted attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"'`=]/g, (c) => XML_ENTITIES[c] ?? c);
}
const XML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#x27;",
  "`": "&#x60;",
  "=": "&#x3D;",
};

/** Cuts a string to at most `max` characters (code points), ending with "…" when cut. */
export function cut(s: string, max: number): string {
  if (s.length <= max) return s;
  const chars = Array.from(s);
  if (chars.length <= max) return s;
  return chars.slice(0, Math.max(0, max - 1)).join("") + "…";
}

/** Collapses newlines and tabs to single spaces (for one-line contexts such as table cells). */
export function oneLine(s: string): string {
  return s.replace(/[\r\n\t]+/g, " ");
}

export interface ExcerptParts {
  before: string;
  mark: string;
  after: string;
  /** True when some of the text was cut. */
  cut: boolean;
}

/**
 * Splits `text` around the first occurrence of `highlight` and cuts it to about `max` characters,
 * keeping the highlighted part visible (a window around it, with "…" on the cut sides).
 * The parts are plain text: the caller escapes each one.
 */
export function splitExcerpt(text: string, highlight: string | undefined, max: number): ExcerptParts {
  const at = highlight ? text.indexOf(highlight) : -1;
  if (!highlight || at < 0) {
    const c = cut(text, max);
    return { before: c, mark: "", after: "", cut: c !== text };
  }
  let before = text.slice(0, at);
  let mark = highlight;
  let after = text.slice(at + highlight.length);
  let wasCut = false;
  if (mark.length > max) {
    mark = cut(mark, max);
    return { before: before.length > 0 ? "…" : "", mark, after: after.length > 0 ? "…" : "", cut: true };
  }
  const room = max - mark.length;
  // Give the context before the mark up to a third of the room, the rest after it.
  const beforeRoom = Math.max(Math.floor(room / 3), room - after.length);
  if (before.length > beforeRoom) {
    before = "…" + before.slice(before.length - Math.max(0, beforeRoom - 1));
    wasCut = true;
  }
  const afterRoom = Math.max(0, max - mark.length - before.length);
  if (after.length > afterRoom) {
    after = after.slice(0, Math.max(0, afterRoom - 1)) + "…";
    wasCut = true;
  }
  return { before, mark, after, cut: wasCut };
}

/**
 * Characters Markdown (CommonMark/GFM) treats as syntax anywhere in running text: escapes, code,
 * emphasis, links/images (`[`, `]`, `!` is harmless once `[` is escaped), HTML and autolinks
 * (`<`, `>`), entities (`&`), tables (`|`), strikethrough (`~`) and mentions (`@`).
 */
const MD_ACTIVE = /[\\`*_[\]<>|~&@]/g;

/**
 * Escapes bundle text for Markdown running text: newlines collapsed, a backslash before every
 * Markdown-active character (all ASCII punctuation may be backslash-escaped in CommonMark), and a
 * line-start marker (`#`, `-`, `+`, `=`, `1.`) neutralised, so no HTML, link, emphasis, code,
 * heading, list or table syntax survives.
 */
export function mdText(s: string): string {
  return oneLine(s)
    .replace(MD_ACTIVE, (c) => "\\" + c)
    .replace(/^(\s*)([#+=-])/, "$1\\$2")
    .replace(/^(\s*\d+)([.)])/, "$1\\$2");
}

/** Escapes bundle text for a GFM table cell: like `mdText` (which also escapes `|`). */
export function mdCell(s: string): string {
  return mdText(s);
}

/** An inline code span holding `s` literally (backtick fence longer than any run inside). */
export function mdCode(s: string, inTable = false): string {
  let body = oneLine(s);
  if (inTable) body = body.replace(/\|/g, "\\|");
  const longest = Math.max(0, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  const pad = body.startsWith("`") || body.endsWith("`") || body.startsWith(" ") ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/** A fenced code block holding `lines` literally (fence longer than any backtick run inside). */
export function mdFence(lines: readonly string[], lang = ""): string {
  const body = lines.join("\n").replace(/\r/g, "");
  const longest = Math.max(0, ...Array.from(body.matchAll(/`{3,}/g), (m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

/**
 * Makes bundle text safe to print on a terminal: removes ANSI escape sequences and replaces other
 * control characters (C0 except tab/newline, DEL, C1) with "?".
 */
export function sanitizeTerminal(s: string): string {
  return s
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "")
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, "")
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "?");
}

/**
 * Shows control characters from the bundle as Unicode control pictures (ESC → ␛, BEL → ␇) instead
 * of passing them on; tab, newline and carriage return stay. Used on the whole HTML and Markdown
 * output (the templates hold no control characters).
 */
export function visibleControls(s: string): string {
  return s.replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x20 ? String.fromCharCode(0x2400 + code) : code === 0x7f ? "\u2421" : "\ufffd";
  });
}
