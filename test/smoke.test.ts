import { describe, it, expect } from "vitest";
import { z } from "zod";
describe("toolchain", () => { it("zod parses", () => { expect(z.number().parse(3)).toBe(3); }); });
