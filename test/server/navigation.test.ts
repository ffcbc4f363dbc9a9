/**
 * Navigation by permission (server/navigation.ts, server/readerView.ts): the sidebar, the pager
 * and the search index a reader is sent name only the pages that reader may read, whichever
 * path answers (the fast path from memory or Express), and every page carries the account line.
 * Real server, real PostgreSQL store, a real MiniSearch index as Framework serializes it.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import MiniSearch from "minisearch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { addUser, as, login, type Session } from "./authHelpers.ts";
import { BUILD_1, createFixture, type Fixture } from "./fixture.ts";
import { openTestStore, type TestStore } from "./store.ts";

const SEARCH = "_observablehq/minisearch.0a1b2c3d.json";

/** A page as Framework 1.13 renders it: sidebar, content column, pager. */
function frameworkPage(title: string, prefix: string, pager: string): string {
  return `<!DOCTYPE html>
<html><head><title>${title}</title>
<link rel="stylesheet" type="text/css" href="${prefix}_observablehq/theme-air.0a1b2c3d.css"></head><body>
<input id="observablehq-sidebar-toggle" type="checkbox" title="Toggle sidebar">
<nav id="observablehq-sidebar">
  <ol>
    <li class="observablehq-link"><a href="${prefix}">Lakebook</a></li>
  </ol>
  <ol>
    <li class="observablehq-link"><a href="${prefix}catalog">Catalog</a></li>
    <li class="observablehq-link"><a href="${prefix}finance">Margins and salaries</a></li>
    <li class="observablehq-link"><a href="${prefix}hr/">HR</a></li>
  </ol>
</nav>
<div id="observablehq-center">
<main id="observablehq-main" class="observablehq"><h1>${title}</h1></main>
<footer id="observablehq-footer">
<nav>${pager}</nav>
</footer>
</div>
</body></html>
`;
}

function searchIndex(): string {
  const options = { fields: ["title", "text", "keywords"], storeFields: ["title"] };
  const index = new MiniSearch(options);
  index.add({ id: "/index", title: "Lakebook", text: "market overview prices", keywords: "" });
  index.add({ id: "/catalog", title: "Catalog", text: "datasets versions prices", keywords: "" });
  index.add({ id: "/finance", title: "Margins and salaries", text: "salaries margins bonus", keywords: "" });
  index.add({ id: "/hr/index", title: "HR", text: "headcount salaries", keywords: "" });
  return JSON.stringify({ options, ...index.toJSON() });
}

let fixture: Fixture;
let db: TestStore;
let server: RunningServer;
let outsider: Session;
let member: Session;
let admin: Session;

beforeAll(async () => {
  fixture = await createFixture();
  const build = `site/builds/${BUILD_1}`;
  await fixture.write(
    `${build}/index.html`,
    frameworkPage("Home", "./", `<a rel="next" href="./catalog"><span>Catalog</span></a>`),
  );
  await fixture.write(
    `${build}/catalog.html`,
    frameworkPage(
      "Catalog",
      "./",
      `<a rel="prev" href="./"><span>Lakebook</span></a><a rel="next" href="./finance"><span>Margins and salaries</span></a>`,
    ),
  );
  await fixture.write(`${build}/finance.html`, frameworkPage("Margins", "./", ""));
  await fixture.write(`${build}/hr/index.html`, frameworkPage("HR", "../", ""));
  await fixture.write(`${build}/${SEARCH}`, searchIndex());
  await fixture.write(`${build}/_observablehq/theme-air.0a1b2c3d.css`, ":root{--theme-foreground:#123456}\n");
  // `access: [finance]` in finance.md's front matter, as `lakebook build` publishes it.
  await fixture.write(
    `${build}/.lakebook/access.json`,
    JSON.stringify([{ path: "/finance", groups: ["finance"] }]),
  );
  db = await openTestStore();
  await db.store.setAccessRule({ path: "/hr/", groups: ["hr"] });
  await db.store.startBuild({ id: BUILD_1, runId: null, startedAt: new Date("2026-01-01T00:00:00Z") });
  await db.store.finishBuild(BUILD_1, {
    status: "succeeded",
    finishedAt: new Date("2026-01-01T00:01:00Z"),
    durationMs: 60_000,
    dataVersions: { prices: 3 },
    error: null,
  });
  await addUser(db.store, "olga", "viewer");
  await addUser(db.store, "fina", "viewer", ["finance"]);
  await addUser(db.store, "root", "admin");
  server = await startServer(fixture.config, { logger: silentLogger, store: db.store, schedules: false });
  outsider = await login(server.url, "olga");
  member = await login(server.url, "fina");
  admin = await login(server.url, "root");
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

async function get(path: string, session: Session) {
  const response = await fetch(`${server.url}${path}`, as(session));
  return { status: response.status, etag: response.headers.get("etag"), body: await response.text() };
}

describe("navigation by permission", () => {
  it("leaves pages a reader may not read out of the sidebar, on both request paths", async () => {
    // The first request fills the caches through Express, the next ones are answered from memory.
    const views = [await get("/", outsider), await get("/", outsider), await get("/", outsider)];
    for (const view of views) {
      expect(view.status).toBe(200);
      expect(view.body).toContain('href="./catalog"');
      expect(view.body).not.toContain('href="./finance"');
      expect(view.body).not.toContain("Margins and salaries");
      expect(view.body).not.toContain('href="./hr/"');
      expect(view.body).toContain("Signed in as <strong>olga</strong>");
      expect(view.body).toContain('<a href="/auth/logout">Sign out</a>');
    }
    expect(new Set(views.map((view) => view.body)).size).toBe(1);
    expect(new Set(views.map((view) => view.etag)).size).toBe(1);

    const memberView = await get("/", member);
    expect(memberView.body).toContain('href="./finance"');
    expect(memberView.body).not.toContain('href="./hr/"');
    expect(memberView.etag).not.toBe(views[0]!.etag);
    const adminView = await get("/", admin);
    expect(adminView.body).toContain('href="./finance"');
    expect(adminView.body).toContain('href="./hr/"');
  });

  it("drops a pager link to a page the reader may not read and keeps the others", async () => {
    for (let i = 0; i < 2; i++) {
      const view = await get("/catalog", outsider);
      expect(view.body).toContain('<a rel="prev" href="./"><span>Lakebook</span></a>');
      expect(view.body).not.toContain('rel="next"');
    }
    expect((await get("/catalog", member)).body).toContain('<a rel="next" href="./finance">');
  });

  it("resolves links relative to a page in a folder", async () => {
    const view = await get("/hr/", admin);
    expect(view.body).toContain('href="../finance"');
    expect(view.body).toContain('href="../hr/"');
    expect((await get("/hr/", outsider)).status).toBe(403);
  });

  it("leaves pages a reader may not read out of the search index, terms included", async () => {
    const outsiderIndex = await get(`/${SEARCH}`, outsider);
    expect(outsiderIndex.status).toBe(200);
    const parsed = JSON.parse(outsiderIndex.body) as { documentIds: Record<string, string> };
    expect(Object.values(parsed.documentIds).sort()).toEqual(["/catalog", "/index"]);
    expect(outsiderIndex.body).not.toContain("salaries");
    expect(outsiderIndex.body).not.toContain("Margins");
    const search = MiniSearch.loadJSON(outsiderIndex.body, {
      fields: ["title", "text", "keywords"],
      storeFields: ["title"],
    });
    expect(search.search("salaries")).toEqual([]);
    expect(search.search("prices").map((hit) => hit.id)).toEqual(
      expect.arrayContaining(["/index", "/catalog"]),
    );

    const memberIndex = await get(`/${SEARCH}`, member);
    const memberSearch = MiniSearch.loadJSON(memberIndex.body, {
      fields: ["title", "text", "keywords"],
      storeFields: ["title"],
    });
    expect(memberSearch.search("salaries").map((hit) => hit.id)).toEqual(["/finance"]);
    expect(memberIndex.etag).not.toBe(outsiderIndex.etag);
    const response = await fetch(`${server.url}/${SEARCH}`, as(outsider));
    expect(response.headers.get("cache-control")).toBe("private, no-cache");
  });

  it("still refuses the restricted page itself", async () => {
    expect((await get("/finance", outsider)).status).toBe(403);
    expect((await get("/finance", member)).status).toBe(200);
  });
});

describe("refusals say which rule applied and whom to ask", () => {
  const page = (path: string, session: Session) =>
    fetch(`${server.url}${path}`, as(session, { headers: { accept: "text/html" } }));

  it("names the page's group rule, the reader and the admins, in an HTML page", async () => {
    const response = await page("/finance", outsider);
    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const body = await response.text();
    expect(body).toContain("group &#39;finance&#39;");
    expect(body).toContain("the page&#39;s own rule (access: [finance] in its front matter)");
    expect(body).toContain("olga is not a member; ask an admin (root)");
    expect(body).toContain("lakebook user grant olga --groups finance");
    expect(body).not.toContain("your role");
    expect(body).toContain('<link rel="stylesheet" href="/auth/site.css">');
  });

  it("names a folder rule by its path", async () => {
    const body = await (await page("/hr/", member)).text();
    expect(body).toContain("the access rule on /hr/");
    expect(body).toContain("group &#39;hr&#39;");
  });

  it("keeps JSON for clients that do not ask for HTML", async () => {
    const response = await fetch(
      `${server.url}/finance`,
      as(outsider, { headers: { accept: "application/json" } }),
    );
    expect(response.status).toBe(403);
    expect(await response.text()).toContain("limited to admins and members of the group 'finance'");
  });

  it("answers an unknown page with the themed 404 page", async () => {
    // The build's own 404 page when it has one (Framework's, from 404.md), else the server's.
    const custom = await page("/no-such-page", outsider);
    expect(custom.status).toBe(404);
    expect(await custom.text()).toContain("Custom not found");
    await rm(join(fixture.config.siteDir, "builds", BUILD_1, "404.html"));
    const response = await page("/no-such-page", outsider);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("<h1>Page not found</h1>");
  });
});

describe("the account pages", () => {
  it("serves the site's stylesheets for the server's pages to anyone", async () => {
    const response = await fetch(`${server.url}/auth/site.css`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/css; charset=utf-8");
    expect(await response.text()).toContain("--theme-foreground:#123456");
  });

  it("signs out from the page the account control links to", async () => {
    const session = await login(server.url, "olga");
    const confirm = await (await fetch(`${server.url}/auth/logout`, as(session))).text();
    expect(confirm).toContain("Signed in as <strong>olga</strong>");
    const csrf = /name="csrf" value="([^"]+)"/.exec(confirm)![1]!;
    const signedOut = await fetch(`${server.url}/auth/logout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie: session.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }).toString(),
    });
    expect(signedOut.status).toBe(303);
    expect((await fetch(`${server.url}/`, as(session))).status).toBe(401);
  });
});

describe("the build stamp", () => {
  it("links each data version to the dataset's catalog entry", async () => {
    const view = await get("/catalog", outsider);
    expect(view.body).toContain(
      'data: <a href="/catalog/curated/prices?version=3" style="color:inherit">prices v3</a>',
    );
  });
});
