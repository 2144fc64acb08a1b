/**
 * The report model: what the engine produces and every renderer consumes.
 * report.json is exactly this shape; `nfdiag schema` prints its JSON Schema.
 */
import { z } from "zod";

export const SCHEMA_VERSION = 1;

export const severitySchema = z.enum(["critical", "high", "medium", "low", "info"]);
export type Severity = z.infer<typeof severitySchema>;
export const SEVERITY_ORDER: readonly Severity[] = ["info", "low", "medium", "high", "critical"];
export const severityWeight = (s: Severity): number => SEVERITY_ORDER.indexOf(s) + 1;

export const evidenceSchema = z.object({
  /** Logical source id, e.g. `dmesg`, `conntrack-stats`. */
  source: z.string(),
  /** Path inside the bundle. */
  path: z.string(),
  /** 1-based line in that file, when the evidence is a line. */
  line: z.number().int().positive().optional(),
  lastLine: z.number().int().positive().optional(),
  /** The excerpt as it stands in the bundle (untrusted text). */
  text: z.string(),
  /** A substring of `text` to highlight: the part that matched. */
  highlight: z.string().optional(),
  /** What this evidence shows, in plain words. */
  note: z.string().optional(),
});
export type Evidence = z.infer<typeof evidenceSchema>;

export const fixSchema = z.object({
  /** Rank across the whole report (1 = try first); set by the engine. */
  rank: z.number().int().positive().optional(),
  title: z.string(),
  /** Why this fix, for this bundle. */
  rationale: z.string().optional(),
  commands: z.array(z.string()),
  persist: z.array(z.string()),
  verify: z.array(z.string()),
  rollback: z.array(z.string()),
  risk: z.string(),
  /** How likely this fix is to cure the problem, 0–1, as judged by its analyzer. */
  cureLikelihood: z.number().min(0).max(1),
  /** Finding id this fix belongs to; set by the engine. */
  findingId: z.string().optional(),
});
export type Fix = z.infer<typeof fixSchema>;

export const confidenceReasonSchema = z.object({ delta: z.number(), reason: z.string() });

export const findingSchema = z.object({
  id: z.string(),
  title: z.string(),
  category: z.string(),
  severity: severitySchema,
  confidence: z.number().min(0).max(1),
  confidenceReasons: z.array(confidenceReasonSchema),
  /** Rank in the report (1 = most likely root cause); set by the engine. */
  rank: z.number().int().positive().optional(),
  summary: z.string(),
  mechanism: z.string(),
  evidence: z.array(evidenceSchema),
  /** What would rule this finding out (what to check before acting). */
  ruledOutBy: z.array(z.string()),
  fixes: z.array(fixSchema),
  /** Ids of findings that cause this one / that this one explains; set by the engine. */
  causedBy: z.array(z.string()),
  explains: z.array(z.string()),
  /** Figures an analyzer computed, for the reader and for tests (rates, ratios, counts). */
  metrics: z.record(z.string(), z.union([z.number(), z.string(), z.boolean(), z.null()])),
  /** Time of the first symptom, ISO, when known. */
  firstSeen: z.string().optional(),
  lastSeen: z.string().optional(),
});
export type Finding = z.infer<typeof findingSchema>;

export const timelineEventSchema = z.object({
  /** ISO wall-clock time when derivable, else absent (then `uptime` orders it). */
  time: z.string().optional(),
  uptime: z.number().optional(),
  /** Whether the wall time is exact, derived from uptime + boot time, or inferred (syslog year). */
  timeQuality: z.enum(["exact", "derived", "inferred", "unknown"]),
  class: z.string(),
  text: z.string(),
  source: z.string(),
  path: z.string(),
  line: z.number().int().positive().optional(),
  /** For a burst of repeated messages: how many, including rate-limit-suppressed ones. */
  count: z.number().int().positive(),
  suppressed: z.number().int().nonnegative(),
  lastTime: z.string().optional(),
  lastUptime: z.number().optional(),
  /** Marks: the first occurrence of a symptom, the likely trigger before it. */
  marks: z.array(z.enum(["first-symptom", "likely-trigger", "collection"])),
  findingIds: z.array(z.string()),
});
export type TimelineEvent = z.infer<typeof timelineEventSchema>;

export const sourceStatusSchema = z.object({
  id: z.string(),
  status: z.enum(["found", "absent", "skipped", "truncated", "error"]),
  paths: z.array(z.string()),
  bytes: z.number().int().nonnegative(),
  reason: z.string().optional(),
});
export type SourceStatus = z.infer<typeof sourceStatusSchema>;

export const warningSchema = z.object({
  code: z.string(),
  message: z.string(),
  path: z.string().optional(),
  line: z.number().int().positive().optional(),
});
export type ReportWarning = z.infer<typeof warningSchema>;

export const reportSchema = z.object({
  schemaVersion: z.literal(SCHEMA_VERSION),
  tool: z.object({ name: z.literal("nfdiag"), version: z.string() }),
  generatedAt: z.string(),
  bundle: z.object({
    input: z.string(),
    container: z.string(),
    layout: z.string(),
    hostname: z.string().optional(),
    kernel: z.string().optional(),
    distro: z.string().optional(),
    collectedAt: z.string().optional(),
    bootTime: z.string().optional(),
    sources: z.array(sourceStatusSchema),
  }),
  verdict: z.object({
    /** Top finding id or null when nothing above info was found. */
    findingId: z.string().nullable(),
    severity: severitySchema,
    confidence: z.number().min(0).max(1),
    sentence: z.string(),
  }),
  findings: z.array(findingSchema),
  /** All fixes across findings, ranked. */
  fixes: z.array(fixSchema),
  timeline: z.object({
    events: z.array(timelineEventSchema),
    /** Events left out to keep the report small. */
    omitted: z.number().int().nonnegative(),
    bootTimeSource: z.string().optional(),
    caveats: z.array(z.string()),
  }),
  warnings: z.array(warningSchema),
});
export type Report = z.infer<typeof reportSchema>;
