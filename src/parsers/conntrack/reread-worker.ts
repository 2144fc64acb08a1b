/**
 * Worker thread of RereadTableParser: reads the bundle file again with the same reader, passes
 * every member by until the wanted one, parses that one, answers with its result and stops reading.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ByteLineSplitter } from "../../bundle/lines.js";
import { BundleLimitError } from "../../bundle/limits.js";
import { type MemberSink, readBundle } from "../../bundle/read.js";
import { create } from "../conntrack-table.js";
import type { MemberOrigin, RereadReply } from "./reread-table.js";

const port = parentPort;
const { path, origin } = workerData as { path: string; origin: MemberOrigin };

/** Thrown into the reader once the member is parsed: it stops decompressing. */
const DONE = new BundleLimitError("done", "the member was read");

const ignore: MemberSink = { write() {}, end() {}, fail() {} };
/** A sink for the members after the wanted one: the reader aborts at its first chunk. */
const stop: MemberSink = {
  write() {
    throw DONE;
  },
  end() {},
  fail() {},
};

function memberSink(answer: (reply: RereadReply) => void): MemberSink {
  const parser = create({ path });
  const splitter = new ByteLineSplitter((b, s, e, n) => parser.pushBytes?.(b, s, e, n));
  const finish = (): void => {
    const lines = splitter.end();
    answer({ kind: "result", result: parser.end(), lines, longLines: splitter.longLines });
  };
  return {
    write: (chunk) => splitter.write(chunk),
    end: finish,
    fail: finish,
  };
}

async function main(): Promise<void> {
  if (!port) return;
  let answered = false;
  const answer = (reply: RereadReply): void => {
    answered = true;
    port.postMessage(reply);
  };
  let seen = 0;
  await readBundle({ kind: "path", path: origin.input }, {
    open(member) {
      if (answered) return stop;
      if (member.path !== origin.member) return ignore;
      return seen++ === origin.occurrence ? memberSink(answer) : ignore;
    },
  }, origin.limits);
  if (!answered) answer({ kind: "missing", reason: `${origin.member} was not found on the second reading` });
}

void main();
