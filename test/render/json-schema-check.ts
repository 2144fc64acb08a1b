/**
 * A tiny JSON Schema checker for the subset `z.toJSONSchema` emits for the report schema
 * (type, const, enum, properties, required, additionalProperties, propertyNames, items, minimum,
 * maximum, exclusiveMinimum, anyOf). Unknown keywords make it throw, so the test notices when the
 * generated schema starts using something this checker does not understand.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "$schema", "$id", "title", "description", "type", "const", "enum", "properties", "required",
  "additionalProperties", "propertyNames", "items", "minimum", "maximum", "exclusiveMinimum", "anyOf",
]);

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

export function validate(schema: Schema, value: unknown, path = "$"): string[] {
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`json-schema-check: unsupported keyword ${k} at ${path}`);
  const errs: string[] = [];
  if (schema.anyOf) {
    const ok = (schema.anyOf as Schema[]).some((s) => validate(s, value, path).length === 0);
    if (!ok) errs.push(`${path}: matches no anyOf branch`);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === "integer" && types.includes("number"))) {
      errs.push(`${path}: type ${t}, expected ${types.join("|")}`);
      return errs;
    }
  }
  if ("const" in schema && value !== schema.const) errs.push(`${path}: not const ${String(schema.const)}`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) errs.push(`${path}: not in enum`);
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) errs.push(`${path}: < minimum`);
    if (typeof schema.maximum === "number" && value > schema.maximum) errs.push(`${path}: > maximum`);
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) errs.push(`${path}: <= exclusiveMinimum`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((v, i) => errs.push(...validate(schema.items as Schema, v, `${path}[${i}]`)));
  }
  if (typeOf(value) === "object") {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) errs.push(`${path}: missing ${r}`);
    for (const [k, v] of Object.entries(obj)) {
      const p = props[k];
      if (p) errs.push(...validate(p, v, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unexpected property ${k}`);
      else if (typeof schema.additionalProperties === "object" && schema.additionalProperties !== null)
        errs.push(...validate(schema.additionalProperties as Schema, v, `${path}.${k}`));
      if (schema.propertyNames) errs.push(...validate(schema.propertyNames as Schema, k, `${path}{${k}}`));
    }
  }
  return errs;
}
