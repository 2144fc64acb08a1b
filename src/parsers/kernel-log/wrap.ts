/**
 * Ticket-paste clean-up and joining of wrapped lines.
 *
 * Pasted logs come quoted and fenced, and syslog or mail clients wrap long messages:
 *   > Nov 22 06:42:24 lab-host kernel: [ 1706.768684] nf_conntrack: table full, dropping
 *   > packet
 *   ```
 * Quote marks (`> `, `>> `, `> > `) are removed, fence lines are skipped, and a line that has no
 * log prefix continues the message before it (at most MAX_CONTINUATION lines, not across a blank
 * line or a fence).
 */

export const MAX_CONTINUATION_LINES = 8;

/** Removes leading e-mail/Markdown quote marks. */
export function unquote(line: string): { text: string; quoted: boolean } {
  if (line.charCodeAt(0) !== 0x3e /* > */) return { text: line, quoted: false };
  let i = 0;
  while (i < line.length && i < 16 && (line[i] === ">" || line[i] === " ")) i++;
  return { text: line.slice(i), quoted: true };
}

export function isFence(line: string): boolean {
  const t = line.trimStart();
  return t.startsWith("```") || t.startsWith("~~~");
}

/** Joins a continuation onto a message text: a single space stands for the wrap point. */
export function joinContinuation(text: string, continuation: string): string {
  const c = continuation.trim();
  if (c === "") return text;
  return text.endsWith(" ") ? text + c : `${text} ${c}`;
}
