/** Splits a byte stream into lines for parsers: UTF-8, CR stripped, over-long lines cut with a warning. */
import { StringDecoder } from "node:string_decoder";
import { MAX_LINE_CHARS } from "../parsers/types.js";

const DECODE_BYTES = 64 * 1024;

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private carry = "";
  private lineNo = 0;
  /** Lines cut because they were longer than MAX_LINE_CHARS: line numbers of the first few. */
  readonly longLines: number[] = [];
  private skippingLongTail = false;

  constructor(private readonly onLine: (line: string, lineNo: number) => void) {}

  write(chunk: Buffer): void {
    // Decoded 64 KiB at a time: a string over V8's regular object size (~128 KiB) is allocated in
    // the large-object space, which only a full GC frees, so 1 MiB archive chunks decoded whole
    // piled up hundreds of MB of dead log text between major collections.
    for (let at = 0; at < chunk.length; at += DECODE_BYTES) this.feed(this.decoder.write(chunk.subarray(at, Math.min(chunk.length, at + DECODE_BYTES))));
  }

  end(): number {
    this.feed(this.decoder.end());
    if (this.carry.length > 0 || this.skippingLongTail) {
      if (!this.skippingLongTail) this.emit(this.carry);
      this.carry = "";
      this.skippingLongTail = false;
    }
    return this.lineNo;
  }

  private feed(text: string): void {
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl === -1) break;
      const piece = text.slice(start, nl);
      if (this.skippingLongTail) this.skippingLongTail = false;
      else this.emit(this.carry.length > 0 ? this.carry + piece : piece);
      this.carry = "";
      start = nl + 1;
    }
    if (start < text.length && !this.skippingLongTail) {
      this.carry += text.slice(start);
      if (this.carry.length > MAX_LINE_CHARS) {
        // Hand over the first MAX_LINE_CHARS and drop the rest of this line as it streams in.
        this.emit(this.carry.slice(0, MAX_LINE_CHARS));
        this.carry = "";
        this.skippingLongTail = true;
      }
    }
  }

  private emit(raw: string): void {
    this.lineNo++;
    let line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.length > MAX_LINE_CHARS) line = line.slice(0, MAX_LINE_CHARS);
    if (raw.length >= MAX_LINE_CHARS && this.longLines.length < 5) this.longLines.push(this.lineNo);
    this.onLine(line, this.lineNo);
  }
}

/** Splits an in-memory buffer into lines, the same way as the streaming splitter. */
export function forEachLine(data: Buffer, onLine: (line: string, lineNo: number) => void): LineSplitter {
  const s = new LineSplitter(onLine);
  s.write(data);
  s.end();
  return s;
}

/**
 * Splits a byte stream into lines without decoding it: each line is handed over as a range of the
 * chunk it lies in (a line across two chunks is joined into a small copy). For parsers with
 * `pushBytes`; over-long lines are cut at MAX_LINE_CHARS bytes like LineSplitter cuts them.
 */
export class ByteLineSplitter {
  private carry: Buffer | undefined;
  private lineNo = 0;
  private skippingLongTail = false;
  readonly longLines: number[] = [];

  constructor(
    private readonly onLine: (buf: Buffer, start: number, end: number, lineNo: number) => void,
    firstLine = 1,
  ) {
    this.lineNo = firstLine - 1;
  }

  /** Lines handed over so far. */
  get lines(): number {
    return this.lineNo;
  }

  /** True between lines: the bytes written so far end with a newline. */
  get atLineStart(): boolean {
    return this.carry === undefined && !this.skippingLongTail;
  }

  /** Counts `n` lines that another splitter handed over (a worker's share of the file); only between lines. */
  skipLines(n: number): void {
    if (!this.atLineStart) throw new Error("skipLines in the middle of a line");
    this.lineNo += n;
  }

  write(chunk: Buffer): void {
    let start = 0;
    if (this.carry !== undefined || this.skippingLongTail) {
      const nl = chunk.indexOf(10);
      const piece = nl === -1 ? chunk : chunk.subarray(0, nl);
      if (!this.skippingLongTail) {
        const carry = this.carry ? Buffer.concat([this.carry, piece]) : Buffer.from(piece);
        if (nl === -1) {
          this.keepCarry(carry);
          return;
        }
        this.carry = undefined;
        this.emit(carry, 0, carry.length);
      } else if (nl === -1) return;
      this.skippingLongTail = false;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) break;
      this.emit(chunk, start, nl);
      start = nl + 1;
    }
    // Copied, so that the chunk itself can be freed.
    if (start < chunk.length) this.keepCarry(Buffer.from(chunk.subarray(start)));
  }

  end(): number {
    if (this.carry !== undefined && !this.skippingLongTail) this.emit(this.carry, 0, this.carry.length);
    this.carry = undefined;
    this.skippingLongTail = false;
    return this.lineNo;
  }

  private keepCarry(carry: Buffer): void {
    if (carry.length <= MAX_LINE_CHARS) {
      this.carry = carry;
      return;
    }
    // Hand over the first MAX_LINE_CHARS bytes and drop the rest of this line as it streams in.
    this.carry = undefined;
    this.emit(carry, 0, MAX_LINE_CHARS);
    this.skippingLongTail = true;
  }

  private emit(buf: Buffer, start: number, end: number): void {
    this.lineNo++;
    if (end - start >= MAX_LINE_CHARS) {
      if (this.longLines.length < 5) this.longLines.push(this.lineNo);
      end = start + MAX_LINE_CHARS;
    }
    this.onLine(buf, start, end, this.lineNo);
  }
}
