/**
 * `uname -a` (sos: `sos_commands/kernel/uname_-a`, `uname`) or a bare `uname -r`.
 *
 * Real samples:
 *   Linux labvm 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16) x86_64 GNU/Linux   (Debian 12 sosreport)
 *   6.18.44-fc-v669                                                                                    (uname -r, this lab)
 * GNU uname -a prints: kernel-name nodename release version machine [processor] [hardware-platform] os,
 * omitting processor/platform when "unknown"; RHEL prints them (`x86_64 x86_64 x86_64 GNU/Linux`).
 */
import { z } from "zod";
import type { ParserFactory } from "./types.js";
import { fields, oneLineParser, provenanceSchema } from "./sys-util.js";
import { kernelVersionSchema, parseKernelRelease } from "./kernel-version.js";

export const schema = z.object({
  release: z.string().nullable(),
  kernel: kernelVersionSchema.nullable(),
  kernelName: z.string().nullable(),
  nodename: z.string().nullable(),
  /** The build string, e.g. `#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)`. */
  version: z.string().nullable(),
  machine: z.string().nullable(),
  os: z.string().nullable(),
  /** `uname -a` or a bare `uname -r`. */
  form: z.enum(["all", "release", "none"]),
  provenance: provenanceSchema.nullable(),
});
export type Uname = z.infer<typeof schema>;

const MACHINE = /^(x86_64|i[3-6]86|aarch64|arm64|armv\d+\w*|ppc64le|ppc64|ppc|s390x|riscv64|mips\w*|loongarch64|sparc64|ia64|unknown|amd64)$/;

const EMPTY: Uname = { release: null, kernel: null, kernelName: null, nodename: null, version: null, machine: null, os: null, form: "none", provenance: null };

export function parseUnameLine(text: string): Omit<Uname, "provenance"> | null {
  const f = fields(text);
  if (f.length === 1) {
    const k = parseKernelRelease(f[0] ?? "");
    return k === null ? null : { ...EMPTY, release: k.raw, kernel: k, form: "release" };
  }
  if (f.length < 3) return null;
  const release = f[2] ?? "";
  const kernel = parseKernelRelease(release);
  if (kernel === null) return null;
  // From the end: os (contains "Linux" or "/"), then up to 3 machine-like words.
  let end = f.length;
  let os: string | null = null;
  const last = f[end - 1] ?? "";
  if (last.includes("/") || last === "Linux" || last === "GNU") {
    os = last;
    end--;
  }
  let machineIdx = -1;
  for (let i = end - 1; i >= 3 && i >= end - 3; i--) {
    if (MACHINE.test(f[i] ?? "")) machineIdx = i;
    else break;
  }
  const version = f.slice(3, machineIdx >= 0 ? machineIdx : end).join(" ");
  return {
    release,
    kernel,
    kernelName: f[0] ?? null,
    nodename: f[1] ?? null,
    version: version === "" ? null : version,
    machine: machineIdx >= 0 ? (f[machineIdx] ?? null) : null,
    os,
    form: "all",
  };
}

export const create: ParserFactory<Uname> = oneLineParser<Uname>("uname", EMPTY, parseUnameLine, (parsed) =>
  parsed.form === "all" && parsed.machine === null ? "no machine architecture found (truncated?)" : null,
);
