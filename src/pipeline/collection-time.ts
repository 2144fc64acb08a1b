/** When the bundle was collected: the collector's own clock, `date -u`, or sos's start time. */
import type { DateFacts } from "../parsers/date.js";
import type { SosManifest } from "../parsers/sos-manifest.js";
import type { ParsedSources } from "../sources/parse.js";

function first<T>(parsed: ParsedSources, id: string): T | undefined {
  return parsed.get(id)?.[0]?.value as T | undefined;
}

const valid = (d: Date): Date | undefined => (Number.isNaN(d.getTime()) ? undefined : d);

export function collectionTime(parsed: ParsedSources): Date | undefined {
  const manifest = first<{ start?: { epoch?: number | null } | null }>(parsed, "collector-manifest");
  // Epoch 0 is a manifest with no clock reading, not a collection in 1970.
  if (typeof manifest?.start?.epoch === "number" && manifest.start.epoch > 0) return valid(new Date(manifest.start.epoch * 1000));
  const date = first<DateFacts>(parsed, "date");
  if (date?.instant) return valid(new Date(date.instant));
  const sos = first<SosManifest>(parsed, "sos-manifest");
  // sos writes local start times without a zone; good enough to pick the year of syslog lines.
  if (sos?.startTime) return valid(new Date(sos.startTime.replace(" ", "T")));
  return undefined;
}
