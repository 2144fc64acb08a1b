/**
 * Archive member names are untrusted: normalise them into a safe relative path.
 * Nothing is ever extracted, but the names end up in reports and in path matching.
 */
export interface NormalisedName {
  path: string;
  /** Why the name was changed, when it was. */
  changed?: string;
}

export function normaliseMemberName(raw: string): NormalisedName {
  const reasons: string[] = [];
  let name = raw;
  if (name.includes("\0")) {
    name = name.split("\0")[0] ?? "";
    reasons.push("NUL byte");
  }
  if (name.includes("\\")) {
    name = name.replace(/\\/g, "/");
    reasons.push("backslashes");
  }
  if (/^([a-zA-Z]:)?\//.test(name)) reasons.push("absolute path");
  const parts: string[] = [];
  for (const part of name.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (!reasons.includes("parent references")) reasons.push("parent references");
      parts.pop();
      continue;
    }
    if (/^[a-zA-Z]:$/.test(part) && parts.length === 0) continue;
    parts.push(part.replace(/[\u0000-\u001f\u007f]/g, "?"));
  }
  const path = parts.join("/");
  return reasons.length > 0 ? { path, changed: reasons.join(", ") } : { path };
}
