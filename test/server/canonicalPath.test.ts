/**
 * Every spelling of a protected path gets the protection of its canonical spelling. Regression
 * for the HIGH bypass where `/LAKE/...` and `/Lake/...` served a restricted lake folder: Express
 * mounted `/lake` without regard to case while the access rule compared the raw path.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../server/index.ts";
import { canonicalPath } from "../../server/safePath.ts";
import { silentLogger } from "../../src/logger.ts";
import { BUILD_1, createFixture, page, rawRequest, type Fixture } from "./fixture.ts";
import { addUser, login, type Session } from "./authHelpers.ts";
import { openTestStore, type TestStore } from "./store.ts";

let fixture: Fixture;
let db: TestStore;
let server: RunningServer;
let outsider: Session;
let member: Session;

const PARQUET = "/lake/curated/sales/data.parquet";

beforeAll(async () => {
  fixture = await createFixture();
  await fixture.write(`site/builds/${BUILD_1}/margins.html`, page("Margins"));
  await fixture.write(`site/builds/${BUILD_1}/finance/report.html`, page("Finance report"));
  await fixture.write(
    `site/builds/${BUILD_1}/.lakebook/access.json`,
    JSON.stringify([
      { path: "/_file/data/sales.abc123.csv", groups: ["finance"] },
      { path: "/margins", groups: ["finance"] },
    ]),
  );
  db = await openTestStore();
  await addUser(db.store, "vic", "viewer");
  await addUser(db.store, "ana", "analyst", ["finance"]);
  await db.store.setAccessRule({ path: "/lake/curated/sales/", groups: ["finance"] });
  await db.store.setAccessRule({ path: "/finance/", groups: ["finance"] });
  server = await startServer(fixture.config, {
    logger: silentLogger,
    store: db.store,
    login: { attemptsPerWindow: 1000 },
    schedules: false,
  });
  [outsider, member] = await Promise.all([login(server.url, "vic"), login(server.url, "ana")]);
});

afterAll(async () => {
  await server?.close();
  await db?.drop();
  await fixture?.cleanup();
});

const request = (path: string, session: Session, method = "GET") =>
  rawRequest(server.port, path, { method, headers: { cookie: session.cookie, accept: "text/html" } });

/** Protected paths, each with the text only its protected response contains. */
const PROTECTED = [
  { path: PARQUET, marker: "PAR1" },
  { path: "/finance/report", marker: "<h1>Finance report</h1>" },
  { path: "/margins", marker: "<h1>Margins</h1>" },
  { path: "/_file/data/sales.abc123.csv", marker: "a,b" },
] as const;

/** Other spellings of `path` that a browser, proxy or file system might take for it. */
function spellings(path: string): string[] {
  const segments = path.slice(1).split("/");
  const join = (parts: string[]) => "/" + parts.join("/");
  const variants = new Set<string>();
  for (let i = 0; i < segments.length; i++) {
    const at = (replacement: string) => join(segments.map((s, j) => (j === i ? replacement : s)));
    const segment = segments[i]!;
    variants.add(at(segment.toUpperCase()));
    variants.add(at(segment[0]!.toUpperCase() + segment.slice(1)));
    variants.add(at(encodeAll(segment)));
    variants.add(at(encodeAll(segment).toLowerCase()));
    variants.add(at(`${segment}.`));
    variants.add(at(`${segment}%2e`));
    variants.add(at(`${segment} `.replace(" ", "%20")));
    variants.add(join([...segments.slice(0, i), ".", ...segments.slice(i)]));
    variants.add(join([...segments.slice(0, i), "%2e", ...segments.slice(i)]));
    variants.add(join([...segments.slice(0, i), "", ...segments.slice(i)]));
    variants.add(join([...segments.slice(0, i), "x", "..", ...segments.slice(i)]));
    variants.add(join([...segments.slice(0, i), "x", "%2e%2e", ...segments.slice(i)]));
    if (i > 0)
      variants.add(
        join([...segments.slice(0, i - 1), `${segments[i - 1]}%2f${segment}`, ...segments.slice(i + 1)]),
      );
    if (i > 0)
      variants.add(
        join([...segments.slice(0, i - 1), `${segments[i - 1]}%2F${segment}`, ...segments.slice(i + 1)]),
      );
    if (i > 0)
      variants.add(
        join([...segments.slice(0, i - 1), `${segments[i - 1]}%5c${segment}`, ...segments.slice(i + 1)]),
      );
  }
  variants.add("/" + path);
  variants.add(path + "/");
  variants.add(path.toUpperCase());
  variants.delete(path);
  return [...variants];
}

function encodeAll(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`)
    .join("");
}

describe("canonical request paths", () => {
  it.each(PROTECTED)(
    "the canonical spelling of $path is served to a member and refused to others",
    async ({ path, marker }) => {
      const allowed = await request(path, member);
      expect(allowed.status, path).toBe(200);
      expect(allowed.body).toContain(marker);
      const refused = await request(path, outsider);
      expect(refused.status, path).toBe(403);
      expect(refused.body).not.toContain(marker);
    },
  );

  it.each(PROTECTED)(
    "no other spelling of $path reaches its content for a reader outside the group",
    async ({ path, marker }) => {
      const leaks: string[] = [];
      for (const spelling of spellings(path)) {
        for (const method of ["GET", "HEAD"]) {
          const response = await request(spelling, outsider, method);
          const served = response.status === 200 || response.status === 206 || response.status === 304;
          if (served || response.body.includes(marker))
            leaks.push(`${method} ${spelling} -> ${response.status}`);
          expect([400, 403, 404], `${method} ${spelling}`).toContain(response.status);
        }
      }
      expect(leaks).toEqual([]);
    },
  );

  it("routes a percent-encoded spelling exactly as the decoded path, access rule included", async () => {
    const spelled = "/%6Cake/curated/%73ales/data.parquet";
    expect((await request(spelled, member)).status).toBe(200);
    expect((await request(spelled, outsider)).status).toBe(403);
  });

  it("refuses trailing dots and spaces, which some file systems drop", () => {
    for (const raw of ["/lake./curated", "/lake/curated/sales./x", "/dir%20/page", "/a/b."]) {
      expect(() => canonicalPath(raw), raw).toThrow(/bad request path/);
    }
    expect(canonicalPath("/lake/curated/sales/data.parquet?x=1").path).toBe(PARQUET);
    expect(canonicalPath("/_npm/lib@1.0.0/index.js").encoded).toBe("/_npm/lib%401.0.0/index.js");
  });
});
