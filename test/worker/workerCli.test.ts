/** `lakebook worker` refuses bad usage with a clear message, before touching anything. */
import { describe, expect, it } from "vitest";
import { runLakebook } from "../helpers/cli.ts";

describe("lakebook worker usage", () => {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME };

  it("needs DATABASE_URL: the embedded mode runs jobs in the server", async () => {
    const result = await runLakebook(["worker"], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("lakebook worker needs DATABASE_URL");
    expect(result.stderr).not.toContain("    at ");
  }, 120_000);

  it("refuses a concurrency that is not a whole number from 1 to 256", async () => {
    const values = ["0", "1.5", "many"];
    const results = await Promise.all(
      values.map((value) => runLakebook(["worker", "--concurrency", value], { env })),
    );
    for (const [i, result] of results.entries()) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `--concurrency must be a whole number from 1 to 256, got '${values[i]}'`,
      );
    }
  }, 120_000);

  it("refuses a heartbeat shorter than pg-boss allows, before opening the store", async () => {
    const result = await runLakebook(["worker"], {
      env: {
        ...env,
        // A closed port: the check must come before any connection.
        DATABASE_URL: "postgres://postgres@127.0.0.1:1/none",
        LAKEBOOK_QUEUE_HEARTBEAT_SECONDS: "5",
      },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("LAKEBOOK_QUEUE_HEARTBEAT_SECONDS is '5': use a number of at least 10");
  }, 120_000);
});
