/**
 * Packet lines written by the iptables/nftables LOG target (nf_log_syslog), with any prefix.
 *
 * Real sample (kernel 6.18, lab namespace, `-j LOG --log-prefix "KLOG-IN: "`):
 *   KLOG-IN: IN=klog-v0 OUT= MAC=52:25:88:de:1c:96:66:68:48:c1:54:c7:08:00 SRC=10.213.7.2 DST=10.213.7.1 LEN=29 TOS=0x00 PREC=0x00 TTL=64 ID=10610 DF PROTO=UDP SPT=54533 DPT=9999 LEN=9
 *
 * Found with indexOf (no regex over the free-text prefix); the key=value fields are read from a
 * bounded window after `IN=`.
 */

export interface LogPacketFields {
  prefix: string;
  in: string;
  out: string;
  src?: string;
  dst?: string;
  proto?: string;
  spt?: number;
  dpt?: number;
}

const WINDOW = 1024;
const KEY_VALUE = /(?:^| )(SRC|DST|PROTO|SPT|DPT)=(\S+)/g;
/** A SRC= or DST= field that KEY_VALUE would read (a field can only start at the window start or after a space). */
const SRC_OR_DST = /(?:^| )(?:SRC|DST)=\S/;

/**
 * Whether parseLogPacket(text) would return fields, without building them (the classifier asks
 * this of every message; the fields are only read for kept messages).
 */
export function isLogPacket(text: string): boolean {
  const i = text.indexOf("IN=");
  if (i < 0 || i > 256) return false;
  const outAt = text.indexOf(" OUT=", i + 3);
  if (outAt < 0) return false;
  // The interface name must have no space: the first space after IN= is the one of " OUT=".
  if (text.indexOf(" ", i + 3) < outAt) return false;
  const rest = text.slice(outAt + 5, outAt + 5 + WINDOW);
  return rest.includes("MAC=") || SRC_OR_DST.test(rest);
}

export function parseLogPacket(text: string): LogPacketFields | undefined {
  const i = text.indexOf("IN=");
  if (i < 0 || i > 256) return undefined;
  const outAt = text.indexOf(" OUT=", i + 3);
  if (outAt < 0) return undefined;
  const inIf = text.slice(i + 3, outAt);
  if (inIf.includes(" ")) return undefined;
  const rest = text.slice(outAt + 5, outAt + 5 + WINDOW);
  const sp = rest.indexOf(" ");
  const out = sp < 0 ? rest : rest.slice(0, sp);
  const fields: LogPacketFields = { prefix: text.slice(0, i).trim(), in: inIf, out };
  let seenSrc = false;
  for (const m of rest.matchAll(KEY_VALUE)) {
    const key = m[1];
    const value = m[2] ?? "";
    // An ICMP error quotes the offending packet in [SRC=... DST=...]: keep the outer fields.
    if (key === "SRC") {
      if (seenSrc) continue;
      seenSrc = true;
      fields.src = value;
    } else if (key === "DST" && fields.dst === undefined) fields.dst = value;
    else if (key === "PROTO" && fields.proto === undefined) fields.proto = value;
    else if (key === "SPT" && fields.spt === undefined) fields.spt = Number.parseInt(value, 10);
    else if (key === "DPT" && fields.dpt === undefined) fields.dpt = Number.parseInt(value, 10);
  }
  if (fields.src === undefined && fields.dst === undefined && !rest.includes("MAC=")) return undefined;
  return fields;
}
