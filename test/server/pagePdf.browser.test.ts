/**
 * PDF snapshots of published pages with a real PostgreSQL store and Debian's Chromium: a page's
 * PDF opens (a PDF with its title, one page or more), is rendered once per build and kind of
 * reader and then served from the cache, is refused with the page's own 401/403 to readers who
 * may not read the page, is linked from the page, and fails with a clear 503 (the page still
 * served) when Chromium is missing or a page never settles.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { readPdfFacts, readPdfText } from "../helpers/pdf.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { BUILD_1, createFixture, page, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;
let server: RunningServer;
let viewer: Session;
let member: Session;

const CENTER = '\n<div id="observablehq-center"><main><p>Quarterly numbers</p></main></div>';

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write(`site/builds/${BUILD_1}/index.html`, page("Home report", CENTER));
  await fixture.write(`site/builds/${BUILD_1}/finance.html`, page("Finance report", CENTER));
  // A page that keeps fetching: the network is never idle (inline scripts run by their hash).
  await fixture.write(
    `site/builds/${BUILD_1}/slow.html`,
    page("Slow", '\n<script>setInterval(() => fetch("/healthz"), 100);</script>'),
  );
  await fixture.write(`site/builds/${BUILD_1}/brochure.pdf`, "%PDF-1.4 a file of the build\n");
  await fixture.write(
    `site/builds/${BUILD_1}/.lakebook/access.json`,
    JSON.stringify([{ path: "/finance", groups: ["finance"] }]),
  );
  db = await openTestStore();
  await addUser(db.store, "vic", "viewer");
  await addUser(db.store, "fay", "viewer", ["finance"]);
  server = await startServer(fixture.config, {
    logger: silentLogger,
    store: db.store,
    schedules: false,
    jobs: {},
    pdf: { timeoutMs: 20_000 },
  });
  viewer = await login(server.url, "vic");
  member = await login(server.url, "fay");
}, 60_000);

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

const get = (path: string, session?: Session, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, as(session, { headers }));

async function renderCount(): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/lakebook_pdf_snapshots_total\{outcome="rendered"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

describe("page PDF snapshots", () => {
  it("opens as a PDF of the page, with its title and at least one page", async () => {
    const response = await get("/index.pdf", viewer);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/pdf");
    expect(response.headers.get("x-lakebook-pdf")).toBe("rendered");
    expect(response.headers.get("cache-control")).toBe("private, no-cache");
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(1000);
    const facts = readPdfFacts(bytes);
    expect(facts.title).toBe("Home report");
    expect(facts.pages).toBeGreaterThanOrEqual(1);
    // The page's text is printed; the account line and the PDF link (screen only) are not.
    const text = readPdfText(bytes);
    expect(text).toContain("Home report");
    expect(text).toContain("Quarterly numbers");
    expect(text).toMatch(/Built .* build 20260101T000000000Z-b1b1b1/);
    expect(text).not.toContain("Signed in as");
    expect(text).not.toContain("PDF");
  }, 60_000);

  it("is rendered once per build and kind of reader, then served from the cache", async () => {
    const before = await renderCount();
    const again = await get("/index.pdf", viewer);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-lakebook-pdf")).toBe("cached");
    const etag = again.headers.get("etag")!;
    expect((await get("/index.pdf", viewer, { "if-none-match": etag })).status).toBe(304);
    expect(await renderCount()).toBe(before);
    const cached = await readdir(join(fixture.root, "site/pdf-cache", BUILD_1));
    expect(cached.filter((name) => name.endsWith(".pdf"))).toHaveLength(1);
  }, 60_000);

  it("answers concurrent first requests with one render", async () => {
    const before = await renderCount();
    const responses = await Promise.all([1, 2, 3].map(() => get("/finance.pdf", member)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(responses.filter((r) => r.headers.get("x-lakebook-pdf") === "rendered")).toHaveLength(1);
    expect(readPdfFacts(Buffer.from(await responses[0]!.arrayBuffer())).title).toBe("Finance report");
    expect(await renderCount()).toBe(before + 1);
  }, 60_000);

  it("refuses a reader who may not read the page with the page's own 403", async () => {
    const pageAnswer = await get("/finance", viewer);
    const pdfAnswer = await get("/finance.pdf", viewer);
    expect(pageAnswer.status).toBe(403);
    expect(pdfAnswer.status).toBe(403);
    const pdfText = await pdfAnswer.text();
    expect(pdfText).toBe(await pageAnswer.text());
    expect(pdfText).toContain("limited to admins and members of the group 'finance'");
    expect(pdfText).not.toContain("%PDF");
  });

  it("refuses anonymous readers like the page: 401, or the sign-in page for a navigation", async () => {
    expect((await get("/index.pdf")).status).toBe(401);
    const navigation = await get("/finance.pdf", undefined, { accept: "text/html" });
    expect(navigation.status).toBe(302);
    expect(navigation.headers.get("location")).toBe("/auth/login?next=%2Ffinance.pdf");
  });

  it("links the PDF from every page, in the build stamp line", async () => {
    const html = await (await get("/", viewer)).text();
    expect(html).toMatch(/<div id="lakebook-build"[^]*<span id="lakebook-pdf"> · <a href="\/index.pdf"/);
    expect(await (await get("/finance", member)).text()).toContain('href="/finance.pdf"');
  });

  it("serves a PDF file of the build as it is, and 404 for a name with no page", async () => {
    const file = await get("/brochure.pdf", viewer);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe("%PDF-1.4 a file of the build\n");
    expect((await get("/no-such-page.pdf", viewer)).status).toBe(404);
  });

  it("answers 503 when the page never settles, and the page itself still works", async () => {
    const quick = await startServer(fixture.config, {
      logger: silentLogger,
      store: db.store,
      schedules: false,
      jobs: {},
      pdf: { timeoutMs: 3000 },
    });
    try {
      const session = await login(quick.url, "vic");
      const started = Date.now();
      const response = await fetch(`${quick.url}/slow.pdf`, as(session));
      expect(response.status).toBe(503);
      expect(await response.text()).toMatch(/took longer than 3 s.*the page itself is at \/slow/);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await fetch(`${quick.url}/slow`, as(session))).status).toBe(200);
    } finally {
      await quick.close();
    }
  }, 60_000);

  it("says to install Chromium when it is missing", async () => {
    const missing = await startServer(fixture.config, {
      logger: silentLogger,
      store: db.store,
      schedules: false,
      jobs: {},
      pdf: { executablePath: "/nonexistent/chromium" },
    });
    try {
      const session = await login(missing.url, "vic");
      const response = await fetch(`${missing.url}/slow.pdf`, as(session));
      expect(response.status).toBe(503);
      expect(await response.text()).toContain("install it (apt-get install chromium)");
      expect((await fetch(`${missing.url}/slow`, as(session))).status).toBe(200);
    } finally {
      await missing.close();
    }
  });
});
