import { Writable } from "node:stream";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../../server/index.ts";
import { REDACTED_PATHS } from "../../src/logger.ts";
import { createFixture, type Fixture } from "./fixture.ts";
import { PASSWORD, addUser } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;

beforeAll(async () => {
  fixture = await createFixture();
  db = await openTestStore();
  await addUser(db.store, "ada", "admin");
});

afterAll(async () => {
  await db?.drop();
  await fixture?.cleanup();
});

describe("server logs", () => {
  it("are JSON lines with request ids and never contain passwords, cookies or tokens", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString("utf8"));
        callback();
      },
    });
    const logger = pino({ level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, sink);
    const server = await startServer(fixture.config, { logger, store: db.store, schedules: false });
    try {
      const ok = await fetch(`${server.url}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "ada", password: PASSWORD }),
      });
      const token = ok.headers.getSetCookie()[0]!.split(";")[0]!.split("=")[1]!;
      const { csrfToken } = (await ok.json()) as { csrfToken: string };
      await fetch(`${server.url}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "ada", password: "wrong but secret-ish" }),
      });
      await fetch(`${server.url}/api/runs?token=${token}`, {
        headers: { cookie: `lakebook_session=${token}` },
      });
      await fetch(`${server.url}/api/session`, {
        headers: { cookie: `lakebook_session=${token}`, "x-csrf-token": csrfToken },
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      const text = lines.join("");
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain("wrong but secret-ish");
      expect(text).not.toContain(token);
      expect(text).not.toContain(csrfToken);
      const requests = lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((l) => l.msg === "request");
      expect(requests.length).toBeGreaterThanOrEqual(4);
      for (const request of requests) expect(request.reqId).toMatch(/^[0-9a-f-]{36}$/);
      expect(lines.some((line) => line.includes('"msg":"sign-in failed"'))).toBe(true);
    } finally {
      await server.close();
    }
  });
});
