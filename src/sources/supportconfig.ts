/**
 * SUSE supportconfig topic files hold many command outputs and file copies in one text file:
 *   #==[ Command ]======================================#
 *   # /sbin/lsmod
 *   Module                  Size  Used by
 * Each block becomes a virtual file `<topic>.txt#<command or path>` with its line offset.
 */
export interface TextSection {
  /** Virtual path used for registry matching. */
  key: string;
  /** First line of the block's content in the real file, minus one. */
  lineOffset: number;
  text: string;
}

const HEADER = /^#==\[ (Command|Configuration File|Log File|Note|Summary|Section) \]=+#\s*$/;

export function splitSupportconfig(topicFile: string, text: string): TextSection[] {
  const lines = text.split("\n");
  const sections: TextSection[] = [];
  let current: { key: string; start: number; body: string[] } | null = null;
  const flush = (): void => {
    if (current) sections.push({ key: current.key, lineOffset: current.start, text: current.body.join("\n") });
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (HEADER.test(line)) {
      flush();
      const titleLine = lines[i + 1] ?? "";
      const title = titleLine.replace(/^#\s*/, "").trim();
      current = { key: `${topicFile}#${title}`, start: i + 2, body: [] };
      i++;
      continue;
    }
    current?.body.push(line);
  }
  flush();
  return sections;
}

export const isSupportconfigTopic = (name: string): boolean => /^[a-z0-9_-]+\.txt$/i.test(name);
