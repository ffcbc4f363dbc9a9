import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  createHostLimiter,
  parseRetryAfter,
  redactParameters,
} from "../../src/sources/index.ts";
import { parseNextLink } from "../../src/sources/pagination.ts";
import { isAllowed, parseRobots } from "../../src/sources/robots.ts";

describe("per-host rate limit", () => {
  it("starts requests to one host at least the interval apart and runs at most `concurrency` at once", async () => {
    const limiter = createHostLimiter({ minIntervalMs: 40, concurrency: 2 });
    const starts: number[] = [];
    let active = 0;
    let peak = 0;
    const task = async () => {
      starts.push(Date.now());
      peak = Math.max(peak, ++active);
      await new Promise((resolve) => setTimeout(resolve, 60));
      active--;
    };
    await Promise.all(Array.from({ length: 5 }, () => limiter.schedule("http://a.test/x", task)));
    expect(peak).toBe(2);
    const gaps = starts.slice(1).map((t, i) => t - starts[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(35);
  });

  it("does not make one host wait for another", async () => {
    const limiter = createHostLimiter({ minIntervalMs: 500, concurrency: 1 });
    const started = Date.now();
    await Promise.all([
      limiter.schedule("http://a.test/", async () => undefined),
      limiter.schedule("http://b.test/", async () => undefined),
    ]);
    expect(Date.now() - started).toBeLessThan(400);
  });
});

describe("retry timing", () => {
  it("backs off exponentially with full jitter up to the cap", () => {
    const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 0 };
    expect([0, 1, 2, 3, 4].map((n) => backoffDelay(n, policy, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2024-01-01T00:00:00Z");
    expect(parseRetryAfter("3", now)).toBe(3000);
    expect(parseRetryAfter("Mon, 01 Jan 2024 00:00:10 GMT", now)).toBe(10_000);
    expect(parseRetryAfter("soon", now)).toBeUndefined();
  });
});

describe("robots.txt", () => {
  const rules = (agent: string) =>
    parseRobots(
      "User-agent: *\nDisallow: /private/\nAllow: /private/open*.html$\n\nUser-agent: Lakebook\nUser-agent: other\nDisallow: /no-bots\n",
      agent,
    );

  it("lets the longest matching rule win, with * and $ patterns", () => {
    const anyone = rules("SomeBot/1.0");
    expect(isAllowed(anyone, "/private/data.html")).toBe(false);
    expect(isAllowed(anyone, "/private/open-1.html")).toBe(true);
    expect(isAllowed(anyone, "/private/open-1.html?x=1")).toBe(false);
    expect(isAllowed(anyone, "/public")).toBe(true);
  });

  it("uses the group naming our agent instead of *", () => {
    const ours = rules("Lakebook/0.1 (data loader)");
    expect(isAllowed(ours, "/private/data.html")).toBe(true);
    expect(isAllowed(ours, "/no-bots/page")).toBe(false);
  });
});

describe("pagination and redaction helpers", () => {
  it("finds rel=next among several Link values and resolves it", () => {
    const header = '<https://x.test/items?page=1>; rel="first", </items?page=3>; rel="next last"';
    expect(parseNextLink(header, "https://x.test/items?page=2")).toBe("https://x.test/items?page=3");
    expect(parseNextLink('<https://x.test/a>; rel="prev"', "https://x.test/")).toBeUndefined();
  });

  it("redacts secret values at any depth but keeps secret names and plain values", () => {
    expect(
      redactParameters({
        url: "https://x.test",
        headers: { authorization: "Bearer abc", accept: "json" },
        passwordSecret: "site-password",
        nested: [{ token: "t" }],
        connectionString: "postgres://me:pw@db:5432/x",
      }),
    ).toEqual({
      url: "https://x.test",
      headers: { authorization: "[redacted]", accept: "json" },
      passwordSecret: "site-password",
      nested: [{ token: "[redacted]" }],
      connectionString: "postgres://me:[redacted]@db:5432/x",
    });
  });
});
