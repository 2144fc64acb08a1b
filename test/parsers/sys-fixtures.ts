/** Shared by the system-parser tests: reads fixtures from test/fixtures/system and runs a parser over text. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseText, type ParseResult, type ParserFactory } from "../../src/parsers/types.js";

const DIR = fileURLToPath(new URL("../fixtures/system/", import.meta.url));

export function fixture(name: string): string {
  return readFileSync(DIR + name, "utf8");
}

export function run<T>(factory: ParserFactory<T>, text: string, path = "test/input"): ParseResult<T> {
  return parseText(factory, text, { path });
}
