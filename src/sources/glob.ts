/** Minimal glob → RegExp for registry paths: `*` one segment, `**` any depth, `{a,b}` alternatives. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        re += ".*";
        i++;
        if (glob[i + 1] === "/") i++;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "{") re += "(?:";
    else if (c === "}") re += ")";
    else if (c === ",") re += "|";
    else if (c === "[") {
      const end = glob.indexOf("]", i);
      re += glob.slice(i, end + 1);
      i = end;
    } else re += c.replace(/[.+^$()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * Supportconfig virtual paths `<topic>.txt#<command line>`: the command part holds slashes, so
 * there `*` matches any characters.
 */
export function virtualGlobToRegExp(glob: string): RegExp {
  const hash = glob.indexOf("#");
  if (hash === -1) return globToRegExp(glob);
  const file = globToRegExp(glob.slice(0, hash)).source.slice(1, -1);
  const command = glob
    .slice(hash + 1)
    .split("*")
    .map((part) => part.replace(/[.+?^$()|[\]{}\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${file}#${command}$`);
}

export const isGlob = (p: string): boolean => /[*?{[]/.test(p);
