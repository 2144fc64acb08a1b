import { describe, expect, it } from "vitest";
import { rulesUsing } from "../../analyzers/missing-extension-module.js";
import type { RuleSetView, UnifiedRule } from "../../src/engine/lib/rulesets.js";

function rule(line: number, matches: string[], target?: string): UnifiedRule {
  return { origin: "iptables-save", live: true, family: "ipv4", table: "filter", chain: "INPUT", matches, detail: "", ...(target ? { target } : {}), needsConntrack: false, modules: [], path: "p", line };
}

function set(live: boolean, rules: UnifiedRule[]): RuleSetView {
  return { origin: live ? "iptables-save" : "saved-rules", live, path: live ? "live" : "saved", rules, chains: 1, tables: ["filter"] };
}

describe("rulesUsing", () => {
  it("lists the rules using each extension as a match or a target, once each, in set and rule order", () => {
    const r1 = rule(1, ["recent"], "DROP");
    const r2 = rule(2, ["tcp", "set"], "LOG");
    const r3 = rule(3, ["recent", "recent"], "recent");
    const r4 = rule(4, [], "LOG");
    const saved = rule(5, ["set"]);
    const live = set(true, [r1, r2, r3, r4]);
    const file = set(false, [saved]);
    const out = rulesUsing([live, file], new Set(["recent", "set", "LOG", "missing"]));
    expect(out.get("recent")?.map((u) => u.r)).toEqual([r1, r3]);
    expect(out.get("set")?.map((u) => [u.r, u.live, u.set])).toEqual([
      [r2, true, live],
      [saved, false, file],
    ]);
    expect(out.get("LOG")?.map((u) => u.r)).toEqual([r2, r4]);
    expect(out.has("missing")).toBe(false);
    expect(out.has("tcp")).toBe(false);
  });
});
