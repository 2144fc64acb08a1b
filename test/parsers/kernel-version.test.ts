import { describe, expect, it } from "vitest";
import { fixture, run } from "./sys-fixtures.js";
import { atLeast, compareKernel, parseKernelRelease } from "../../src/parsers/kernel-version.js";
import * as uname from "../../src/parsers/uname.js";
import * as osRelease from "../../src/parsers/os-release.js";

describe("kernel release strings", () => {
  it.each([
    ["5.14.0-427.13.1.el9_4.x86_64", 5, 14, 0, [427, 13, 1], "rhel", "el9_4", "x86_64"],
    ["6.8.0-45-generic", 6, 8, 0, [45], "ubuntu", null, null],
    ["2.6.32-754.el6.x86_64", 2, 6, 32, [754], "rhel", "el6", "x86_64"],
    ["4.19.0-27-amd64", 4, 19, 0, [27], "debian", null, "x86_64"],
    ["6.1.0-56-amd64", 6, 1, 0, [56], "debian", null, "x86_64"],
    ["6.18.44-fc-v669", 6, 18, 44, [], "unknown", null, null],
    ["5.15.0-300.163.18.el8uek.x86_64", 5, 15, 0, [300, 163, 18], "oracle-uek", "el8uek", "x86_64"],
    ["5.14.21-150500.55.65-default", 5, 14, 21, [150500, 55, 65], "suse", null, null],
    ["6.5.6-300.fc39.x86_64", 6, 5, 6, [300], "fedora", "fc39", "x86_64"],
    ["4.14.350-266.564.amzn2.x86_64", 4, 14, 350, [266, 564], "amazon", "amzn2", "x86_64"],
  ])("%s", (raw, major, minor, patch, build, distroHint, distroTag, arch) => {
    expect(parseKernelRelease(raw)).toEqual({ raw, major, minor, patch, suffix: raw.slice(String(`${major}.${minor}.${patch}`).length), build, distroHint, distroTag, arch });
  });

  it("rejects non-versions", () => {
    expect(parseKernelRelease("Linux")).toBeNull();
    expect(parseKernelRelease("")).toBeNull();
  });

  it("compares numerically, never as semver or text", () => {
    expect(compareKernel("5.14.0-427.13.1.el9_4.x86_64", "5.14.0-362.8.1.el9_3.x86_64")).toBe(1);
    expect(compareKernel("4.9.0", "4.19.0")).toBe(-1);
    expect(compareKernel("6.1.0-56-amd64", "6.1.0-56-amd64")).toBe(0);
    expect(compareKernel("3.10", "3.10.0")).toBe(0);
    expect(compareKernel("5.10.0-9-amd64", "5.10.0-10-amd64")).toBe(-1);
  });

  it("atLeast compares only the components asked for", () => {
    expect(atLeast("5.15.0-100-generic", "5.15")).toBe(true);
    expect(atLeast("5.14.0-427.13.1.el9_4.x86_64", "5.15")).toBe(false);
    expect(atLeast("6.1.0-56-amd64", "4.19")).toBe(true);
    expect(atLeast("4.9.0", "4.10")).toBe(false);
    expect(atLeast("4.19.12", "4.19.13")).toBe(false);
    expect(atLeast("6.18.44-fc-v669", "6.17")).toBe(true);
    expect(atLeast("garbage", "1")).toBe(false);
  });
});

describe("uname", () => {
  it("reads the real sos uname -a", () => {
    const { value, warnings } = run(uname.create, fixture("uname-a.sos"), "sos_commands/kernel/uname_-a");
    expect(warnings).toEqual([]);
    expect(value).toMatchObject({
      form: "all",
      kernelName: "Linux",
      nodename: "labvm",
      release: "6.1.0-56-amd64",
      version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)",
      machine: "x86_64",
      os: "GNU/Linux",
      provenance: { path: "sos_commands/kernel/uname_-a", line: 1 },
    });
    expect(value.kernel?.distroHint).toBe("debian");
  });

  it("reads a real bare uname -r", () => {
    const { value } = run(uname.create, fixture("uname-r.lab"));
    expect(value.form).toBe("release");
    expect(value.kernel?.major).toBe(6);
    expect(value.nodename).toBeNull();
  });

  it("reads RHEL's uname -a with processor and platform", () => {
    const { value } = run(uname.create, "Linux db1 3.10.0-1160.el7.x86_64 #1 SMP Mon Oct 19 16:18:59 UTC 2020 x86_64 x86_64 x86_64 GNU/Linux\n");
    expect(value.version).toBe("#1 SMP Mon Oct 19 16:18:59 UTC 2020");
    expect(value.machine).toBe("x86_64");
    expect(value.kernel?.distroTag).toBe("el7");
  });

  it("warns when the architecture is cut off", () => {
    const { value, warnings } = run(uname.create, "Linux labvm 6.1.0-56-amd64 #1 SMP PREEMPT_DYNAMIC Deb");
    expect(value.release).toBe("6.1.0-56-amd64");
    expect(warnings[0]?.line).toBe(1);
  });
});

describe("os-release", () => {
  it("reads the real Debian 12 file", () => {
    const { value } = run(osRelease.create, fixture("os-release.debian12"), "etc/os-release");
    expect(value).toMatchObject({ id: "debian", versionId: "12", prettyName: "Debian GNU/Linux 12 (bookworm)", idLike: [] });
    expect(value.fields.ID?.provenance.line).toBe(6);
  });

  it("reads RHEL 9 with ID_LIKE and quoted ID", () => {
    const { value } = run(osRelease.create, fixture("os-release.rhel9.derived"));
    expect(value).toMatchObject({ id: "rhel", versionId: "9.4", idLike: ["fedora"] });
  });

  it("handles single quotes, escapes, and warns on unterminated quotes", () => {
    const { value, warnings } = run(osRelease.create, `NAME='Foo Linux'\nPRETTY_NAME="Foo \\"X\\" 1"\nVERSION="1 (cut`);
    expect(value.fields.NAME?.value).toBe("Foo Linux");
    expect(value.prettyName).toBe('Foo "X" 1');
    expect(value.fields.VERSION).toBeUndefined();
    expect(warnings[0]?.line).toBe(3);
  });
});
