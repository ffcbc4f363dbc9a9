import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../src/logger.ts";

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  const lines: string[] = [];
  stream.on("data", (chunk: Buffer) => lines.push(...chunk.toString().split("\n").filter(Boolean)));
  return { stream, lines };
}

describe("logger", () => {
  it("writes JSON lines with secrets redacted when not on a terminal", async () => {
    const { stream, lines } = capture(false);
    const logger = createLogger({ destination: stream, level: "info" });
    logger.info({ source: { password: "hunter2", token: "t0k3n" }, cookie: "sid=abc" }, "logged in");
    await new Promise((resolve) => setImmediate(resolve));
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      msg: "logged in",
      source: { password: "[redacted]", token: "[redacted]" },
      cookie: "[redacted]",
    });
    expect(lines.join("")).not.toMatch(/hunter2|t0k3n|sid=abc/);
  });

  it("writes one readable line per entry on a terminal", async () => {
    const { stream, lines } = capture(true);
    createLogger({ destination: stream, level: "info" }).warn(
      { dataset: "prices", password: "x" },
      "slow build",
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d warn slow build dataset=prices password=\[redacted\]$/);
  });
});
