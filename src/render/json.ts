/**
 * report.json: the report model validated with the zod schema, pretty-printed. Keys come out in
 * the schema's order (zod builds the parsed object from the schema's shape; unknown keys are
 * dropped), so the file is stable across runs and diffs well.
 */
import { reportSchema, type Report } from "../report/schema.js";

/** Validates `report` (throws a ZodError naming the bad field) and returns it as pretty JSON. */
export function renderJson(report: Report): string {
  const parsed = reportSchema.parse(report);
  return JSON.stringify(parsed, null, 2) + "\n";
}
