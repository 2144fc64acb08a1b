/**
 * The JSON Schema of report.json, generated from the zod schema (the single source of truth).
 * `docs/report.schema.json` is this output, committed; a test checks it is up to date.
 */
import { z } from "zod";
import { SCHEMA_VERSION, reportSchema } from "./schema.js";

export function reportJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(reportSchema) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: `https://nfdiag.invalid/report.schema.v${SCHEMA_VERSION}.json`,
    title: "nfdiag report",
    description: `report.json written by nfdiag (schemaVersion ${SCHEMA_VERSION}).`,
    ...rest,
  };
}
