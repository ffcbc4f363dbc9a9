import { describe, expect, it } from "vitest";
import { runLakebook } from "../helpers/cli.ts";

const lakebook = (...args: string[]) => runLakebook(args);

describe("lakebook command line", () => {
  it("prints the commands with --help and exits 0", async () => {
    const result = await lakebook("--help");
    expect(result.code).toBe(0);
    for (const command of ["demo", "build", "preview", "serve"])
      expect(result.stdout).toContain(`  ${command} `);
  });

  it("names an unknown command and exits 2 without a stack trace", async () => {
    const result = await lakebook("publsh");
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "lakebook: unknown command 'publsh': run 'lakebook --help' for the list",
    );
  });

  it("refuses a port that is not a number", async () => {
    const result = await lakebook("serve", "--port", "eighty");
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      "lakebook: --port must be a whole number from 0 to 65535, got 'eighty'",
    );
  });

  it("refuses an unknown option with a pointer to --help", async () => {
    const result = await lakebook("build", "--colour");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lakebook: Unknown option '--colour'.*run 'lakebook --help'/);
  });
});
