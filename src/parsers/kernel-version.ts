/**
 * Kernel release strings (`uname -r`, /proc/sys/kernel/osrelease, the 3rd word of `uname -a`):
 * parsed into numbers and compared numerically. Never semver: `5.14.0-427.13.1.el9_4.x86_64` is a
 * RHEL 9.4 kernel carrying many backports, and `-427` is not a pre-release tag.
 *
 * Real samples: `6.1.0-56-amd64` (Debian 12 sosreport), `6.18.44-fc-v669` (this lab's kernel).
 * Format examples: `5.14.0-427.13.1.el9_4.x86_64`, `6.8.0-45-generic`, `2.6.32-754.el6.x86_64`, `4.19.0-27-amd64`.
 *
 * The module also works as a parser for a file holding one release string.
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { WarningSink, prov, provenanceSchema, skipLine } from "./sys-util.js";

export const kernelVersionSchema = z.object({
  raw: z.string(),
  major: z.number().int(),
  minor: z.number().int(),
  patch: z.number().int().nullable(),
  /** Everything after major.minor[.patch], e.g. `-427.13.1.el9_4.x86_64`. */
  suffix: z.string(),
  /** Leading numbers of the suffix (`-427.13.1.el9_4` → [427, 13, 1]; `-45-generic` → [45]). */
  build: z.array(z.number().int()),
  distroHint: z.enum(["rhel", "fedora", "oracle-uek", "amazon", "debian", "ubuntu", "suse", "unknown"]),
  /** The distro tag when present: `el9_4`, `el7`, `fc39`, `amzn2`. */
  distroTag: z.string().nullable(),
  arch: z.string().nullable(),
});
export type KernelVersion = z.infer<typeof kernelVersionSchema>;

const RELEASE = /^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,6}))?/;
const ARCHES = ["x86_64", "aarch64", "ppc64le", "ppc64", "s390x", "i686", "i386", "armv7hl", "noarch"];

function leadingNumbers(suffix: string): number[] {
  // "-427.13.1.el9_4.x86_64" → 427, 13, 1 ; "-45-generic" → 45 ; ".1-foo" (4th component) → 1
  const out: number[] = [];
  let i = 0;
  while (i < suffix.length && out.length < 8) {
    const c = suffix[i];
    if (c !== "-" && c !== "." && c !== "_" && c !== "+") break;
    i++;
    let j = i;
    while (j < suffix.length && (suffix.charCodeAt(j) >= 48 && suffix.charCodeAt(j) <= 57)) j++;
    if (j === i) break;
    const next = suffix[j];
    if (next !== undefined && next !== "-" && next !== "." && next !== "_" && next !== "+") break;
    out.push(Number(suffix.slice(i, j)));
    i = j;
  }
  return out;
}

function hintOf(suffix: string): { distroHint: KernelVersion["distroHint"]; distroTag: string | null } {
  const uek = /\.el\d+uek/.exec(suffix) ?? (suffix.includes("uek") ? [/uek\S*/.exec(suffix)?.[0] ?? "uek"] : null);
  if (uek) return { distroHint: "oracle-uek", distroTag: uek[0].replace(/^\./, "") };
  const el = /\.(el\d{1,2}(?:_\d{1,2})?)/.exec(suffix);
  if (el?.[1] !== undefined) return { distroHint: "rhel", distroTag: el[1] };
  const fc = /\.(fc\d{1,3})/.exec(suffix);
  if (fc?.[1] !== undefined) return { distroHint: "fedora", distroTag: fc[1] };
  const amzn = /\.(amzn\d{1,4})/.exec(suffix);
  if (amzn?.[1] !== undefined) return { distroHint: "amazon", distroTag: amzn[1] };
  if (/^-\d+-(generic|lowlatency|aws|azure|gcp|oracle|kvm|raspi|ibm)(?:-|$)/.test(suffix)) return { distroHint: "ubuntu", distroTag: null };
  if (/^-\d+(?:-(?:cloud|rt))?-(amd64|arm64|686|686-pae|armmp|powerpc64le|s390x)$/.test(suffix)) return { distroHint: "debian", distroTag: null };
  if (/-(default|azure|rt|preempt)$/.test(suffix) && /^-\d+(\.\d+)+-/.test(suffix)) return { distroHint: "suse", distroTag: null };
  return { distroHint: "unknown", distroTag: null };
}

/** Parses a release string; null when it does not start with `major.minor`. */
export function parseKernelRelease(text: string): KernelVersion | null {
  const raw = text.trim();
  if (raw.length > 200) return null;
  const m = RELEASE.exec(raw);
  if (m?.[1] === undefined || m[2] === undefined) return null;
  const suffix = raw.slice(m[0].length);
  let arch: string | null = null;
  for (const a of ARCHES) {
    if (suffix.endsWith(`.${a}`) || suffix.endsWith(`-${a}`)) {
      arch = a;
      break;
    }
  }
  if (arch === null && /-(amd64|arm64)$/.test(suffix)) arch = suffix.endsWith("amd64") ? "x86_64" : "aarch64";
  return {
    raw,
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: m[3] === undefined ? null : Number(m[3]),
    suffix,
    build: leadingNumbers(suffix),
    ...hintOf(suffix),
    arch,
  };
}

function asVersion(v: KernelVersion | string): KernelVersion | null {
  return typeof v === "string" ? parseKernelRelease(v) : v;
}

/**
 * Numeric comparison: major, minor, patch (missing = 0), then the leading build numbers of the
 * suffix (`-427.13.1` > `-362.8.1`). Returns -1, 0 or 1; unparsable input sorts first.
 */
export function compareKernel(a: KernelVersion | string, b: KernelVersion | string): -1 | 0 | 1 {
  const x = asVersion(a);
  const y = asVersion(b);
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  const xs = [x.major, x.minor, x.patch ?? 0, ...x.build];
  const ys = [y.major, y.minor, y.patch ?? 0, ...y.build];
  const n = Math.max(xs.length, ys.length);
  for (let i = 0; i < n; i++) {
    const p = xs[i] ?? 0;
    const q = ys[i] ?? 0;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

/**
 * True when `v` is at least `min` (e.g. "5.15", "4.19.0"): only the components written in `min`
 * are compared, so `atLeast("5.15.0-100-generic", "5.15")` is true and distro build numbers are
 * ignored. Note that enterprise kernels backport fixes: `atLeast` tells the upstream base only.
 */
export function atLeast(v: KernelVersion | string, min: string): boolean {
  const x = asVersion(v);
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(min.trim());
  if (x === null || m?.[1] === undefined) return false;
  const want = [Number(m[1]), m[2] === undefined ? null : Number(m[2]), m[3] === undefined ? null : Number(m[3])];
  const have = [x.major, x.minor, x.patch ?? 0];
  for (let i = 0; i < 3; i++) {
    const w = want[i];
    const h = have[i] ?? 0;
    if (w === null || w === undefined) return true;
    if (h !== w) return h > w;
  }
  return true;
}

export const schema = z.object({
  kernel: kernelVersionSchema.nullable(),
  provenance: provenanceSchema.nullable(),
});
export type KernelReleaseFile = z.infer<typeof schema>;

export const create: ParserFactory<KernelReleaseFile> = (ctx) => {
  const warnings = new WarningSink(ctx.path);
  let kernel: KernelVersion | null = null;
  let provenance: KernelReleaseFile["provenance"] = null;
  return {
    push(line, lineNo) {
      if (skipLine(line, lineNo, warnings, 4096)) return;
      const text = line.trim();
      if (text === "") return;
      if (kernel !== null) {
        warnings.add(lineNo, `line ${lineNo}: extra line after the release string ignored`);
        return;
      }
      const k = parseKernelRelease(text);
      if (k === null) {
        warnings.add(lineNo, `line ${lineNo}: not a kernel release string`);
        return;
      }
      kernel = k;
      provenance = prov(ctx, lineNo);
    },
    end() {
      return { value: { kernel, provenance }, warnings: warnings.done() };
    },
  };
};
