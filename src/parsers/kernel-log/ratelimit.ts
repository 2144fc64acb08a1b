/**
 * Attribution of rate-limit summaries to the message class they hid (kernel-facts.md §1.9).
 *
 * Real sample (kernel 6.18, lab namespace):
 *   [  272.213699] net_ratelimit: 470 callbacks suppressed
 *   [  272.213705] nf_conntrack: nf_conntrack: table full in netns 4026532177, dropping packet
 * lib/ratelimit.c prints the summary when a new interval starts, just before the next message it
 * lets through; the callbacks it counts were refused during the interval that just ended, after
 * that interval's burst of printed messages. So the suppressed count belongs to the class printed
 * just before the summary (the same callers, still firing); the message after it is only the first
 * of the new interval and may be anything. The nearest matching message after the summary (within
 * LOOKAHEAD messages) is used only when no matching message came before. Real sample (6.1 guest,
 * neighbour overflow then conntrack drops): 10 "neighbor table overflow!" lines, then
 * "net_ratelimit: 1265 callbacks suppressed", then "table full" lines: the 1265 go to the overflow.
 */
import { type KlogClass, NET_RATELIMITED_CLASSES } from "./classify.js";

export const LOOKAHEAD_MESSAGES = 5;

/** Which classes a summary printed by `func` can belong to; `undefined` = any classified message. */
export function candidateClasses(func: string): readonly KlogClass[] | undefined {
  if (func === "net_ratelimit" || func === "__ratelimit" || func === "printk") return NET_RATELIMITED_CLASSES;
  if (func === "warn_alloc") return ["alloc-failure"];
  if (func.startsWith("recent_") || func.startsWith("xt_recent")) return ["xt-recent"];
  if (func.startsWith("xt_check") || func.startsWith("x_tables") || func === "xt_check_entry_offsets") return ["xt-error"];
  return undefined;
}

const NEVER_TARGET: ReadonlySet<KlogClass> = new Set<KlogClass>(["other", "ratelimit-summary", "kernel-version"]);

/** The last message of a class; updated in place (one object per class, not one per message). */
export interface Seen<M> {
  msg: M;
  cls: KlogClass;
  /** -1 until a message of the class is seen. */
  index: number;
}

interface Pending<M> {
  n: number;
  index: number;
  candidates: readonly KlogClass[] | undefined;
  /** A copy of the nearest matching message before the summary (Seen objects change later). */
  before: Seen<M> | undefined;
}

export type AttributeFn<M> = (target: M, cls: KlogClass, n: number) => void;

export class SuppressionAttributor<M> {
  private readonly last = new Map<KlogClass, Seen<M>>();
  private pending: Pending<M>[] = [];
  /** Suppressed counts that matched no message of a candidate class. */
  unattributed = 0;

  constructor(private readonly attribute: AttributeFn<M>) {}

  private nearestBefore(candidates: readonly KlogClass[] | undefined): Seen<M> | undefined {
    let best: Seen<M> | undefined;
    if (candidates) {
      for (const c of candidates) {
        const s = this.last.get(c);
        if (s && s.index >= 0 && (!best || s.index > best.index)) best = s;
      }
    } else {
      for (const s of this.last.values()) if (s.index >= 0 && (!best || s.index > best.index)) best = s;
    }
    return best;
  }

  private settleBefore(p: Pending<M>): void {
    if (p.before) this.attribute(p.before.msg, p.before.cls, p.n);
    else this.unattributed += p.n;
  }

  /** A summary `func: n callbacks suppressed` seen as message number `index`. */
  summary(func: string, n: number, index: number): void {
    const candidates = candidateClasses(func);
    const b = this.nearestBefore(candidates);
    this.pending.push({ n, index, candidates, before: b ? { msg: b.msg, cls: b.cls, index: b.index } : undefined });
  }

  /** Any other finished message, in order. */
  message(msg: M, cls: KlogClass, index: number): void {
    this.messageIn(this.slot(cls), msg, cls, index);
  }

  /** Where messages of `cls` are remembered (undefined: never credited), for messageIn. */
  slot(cls: KlogClass): Seen<M> | undefined {
    if (NEVER_TARGET.has(cls)) return undefined;
    let s = this.last.get(cls);
    if (!s) {
      s = { msg: undefined as M, cls, index: -1 };
      this.last.set(cls, s);
    }
    return s;
  }

  /** message() with the class's slot() looked up once by the caller. */
  messageIn(slot: Seen<M> | undefined, msg: M, cls: KlogClass, index: number): void {
    if (this.pending.length > 0) {
      const keep: Pending<M>[] = [];
      for (const p of this.pending) {
        const fits = !NEVER_TARGET.has(cls) && (p.candidates === undefined || p.candidates.includes(cls));
        if (fits) {
          if (!p.before) this.attribute(msg, cls, p.n);
          else this.settleBefore(p);
        } else if (index - p.index >= LOOKAHEAD_MESSAGES) this.settleBefore(p);
        else keep.push(p);
      }
      this.pending = keep;
    }
    if (slot) {
      slot.msg = msg;
      slot.index = index;
    }
  }

  end(): void {
    for (const p of this.pending) this.settleBefore(p);
    this.pending = [];
  }
}
