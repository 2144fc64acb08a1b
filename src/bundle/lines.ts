/** Splits a byte stream into lines for parsers: UTF-8, CR stripped, over-long lines cut with a warning. */
import { StringDecoder } from "node:string_decoder";
import { MAX_LINE_CHARS } from "../parsers/types.js";

export class LineSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private carry = "";
  private lineNo = 0;
  /** Lines cut because they were longer than MAX_LINE_CHARS: line numbers of the first few. */
  readonly longLines: number[] = [];
  private skippingLongTail = false;

  constructor(private readonly onLine: (line: string, lineNo: number) => void) {}

  write(chunk: Buffer): void {
    this.feed(this.decoder.write(chunk));
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
