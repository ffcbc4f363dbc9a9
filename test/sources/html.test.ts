import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listLanded } from "../../src/lake/index.ts";
import { createHostLimiter, extractRows, listRuns, runHtmlSource } from "../../src/sources/index.ts";
import { useTempDirs } from "../helpers/tempDir.ts";
import { type FixtureSite, startFixtureSite } from "./fixtureSite.ts";
import { addedKeys, lakeListing, newLake } from "./lakeHelpers.ts";

const tempDir = useTempDirs();
const http = {
  retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1000 },
  limiter: createHostLimiter({ minIntervalMs: 0 }),
};

describe("HTML source", () => {
  let site: FixtureSite;
  beforeAll(async () => {
    site = await startFixtureSite();
  });
  afterAll(async () => site?.close());

  it("extracts a table's rows with columns named after its header and lands the page once", async () => {
    const lake = await newLake(tempDir);
    const spec = {
      source: "prices",
      url: `${site.origin}/html/prices.html`,
      extract: { table: "#prices" },
      http,
    };
    const first = await runHtmlSource({ lake }, spec);
    expect(first.rows).toEqual([
      { Ticker: "T1", Price: "10.50" },
      { Ticker: "T2", Price: "21.00" },
    ]);
    expect(first.created).toBe(true);
    const second = await runHtmlSource({ lake }, spec);
    expect(second.created).toBe(false);
    expect(second.key).toBe(first.key);
    expect(await listLanded(lake.storage, "prices")).toHaveLength(1);
    expect(
      (await listRuns(lake.storage, "prices")).map((run) => [run.status, run.rows, run.created]),
    ).toEqual([
      ["succeeded", 2, 1],
      ["succeeded", 2, 0],
    ]);
  });

  it("extracts rows with per-column selectors and attributes", () => {
    const html = `<ul><li class="q" data-id="a1"><span class="sym">MSFT</span> <b>39.81</b></li><li class="q" data-id="a2"><span class="sym">IBM</span></li></ul>`;
    const { rows } = extractRows(html, {
      rows: "li.q",
      columns: { id: { selector: ":scope", attribute: "data-id" }, symbol: ".sym", last: "b" },
    });
    expect(rows).toEqual([
      { id: "a1", symbol: "MSFT", last: "39.81" },
      { id: "a2", symbol: "IBM", last: null },
    ]);
  });

  it("decodes windows-1252 declared as ISO-8859-1 in Content-Type", async () => {
    const lake = await newLake(tempDir);
    const result = await runHtmlSource(
      { lake },
      { source: "latin", url: `${site.origin}/html/latin1`, extract: { table: "#t" }, http },
    );
    expect(result.encoding).toBe("windows-1252");
    expect(result.rows).toEqual([{ Name: "Café", City: "Zürich", Price: "€5" }]);
  });

  it("decodes the charset named by a meta tag when the header has none", async () => {
    const lake = await newLake(tempDir);
    const result = await runHtmlSource(
      { lake },
      { source: "meta", url: `${site.origin}/html/meta`, extract: { table: "#t" }, http },
    );
    expect(result.rows).toEqual([{ Name: "Café", City: "Zürich", Price: "€5" }]);
    // Landed bytes are exactly what the server sent, not re-encoded.
    const [landed] = await listLanded(lake.storage, "meta");
    expect((await lake.storage.read(landed!.key)).includes(Buffer.from([0x80]))).toBe(true);
  });

  it("refuses a page robots.txt disallows, with a clear error and a failed run", async () => {
    const lake = await newLake(tempDir);
    await expect(
      runHtmlSource(
        { lake },
        { source: "private", url: `${site.origin}/private/data.html`, extract: { table: "#prices" }, http },
      ),
    ).rejects.toThrow(/robots\.txt disallows \/private\/data\.html/);
    expect((await listRuns(lake.storage, "private"))[0]).toMatchObject({ status: "failed" });
    expect(await listLanded(lake.storage, "private")).toEqual([]);
    expect(site.hits.get("/private/data.html")).toBeUndefined();
  });

  it("honours an Allow rule inside a disallowed folder", async () => {
    const lake = await newLake(tempDir);
    const result = await runHtmlSource(
      { lake },
      { source: "open", url: `${site.origin}/private/open.html`, extract: { table: "#prices" }, http },
    );
    expect(result.rows).toHaveLength(2);
  });

  it("fetches a disallowed page when robots.txt is explicitly opted out of", async () => {
    const lake = await newLake(tempDir);
    const result = await runHtmlSource(
      { lake },
      {
        source: "private",
        url: `${site.origin}/private/data.html`,
        extract: { table: "#prices" },
        respectRobots: false,
        http,
      },
    );
    expect(result.rows).toHaveLength(2);
  });

  it("fails on an error page served with 200, saving it as a snapshot and changing nothing else", async () => {
    const lake = await newLake(tempDir);
    await runHtmlSource(
      { lake },
      { source: "p", url: `${site.origin}/html/prices.html`, extract: { table: "#prices" }, http },
    );
    const before = await lakeListing(lake);
    const error = (await runHtmlSource(
      { lake },
      { source: "p", url: `${site.origin}/html/error200`, extract: { table: "#prices" }, http },
    ).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/found no rows: no element matches the table selector '#prices'/);
    const snapshot = /snapshot (landing\/source=p-snapshots\/\S+\.html)/.exec(error.message)?.[1];
    expect((await lake.storage.read(snapshot!)).toString()).toContain("Something went wrong");
    const added = addedKeys(before, await lakeListing(lake));
    expect(
      added.filter((key) => !key.startsWith("landing/source=p-snapshots/") && !key.includes("/_runs/")),
    ).toEqual([]);
    const runs = await listRuns(lake.storage, "p");
    expect(runs[1]).toMatchObject({ status: "failed", snapshots: [snapshot] });
  });

  it("fails when a column selector matches nothing in any row (changed layout)", async () => {
    const lake = await newLake(tempDir);
    await expect(
      runHtmlSource(
        { lake },
        {
          source: "quotes",
          url: `${site.origin}/html/quotes.html`,
          extract: { rows: "li.q", columns: { symbol: ".sym", last: ".price" } },
          http,
        },
      ),
    ).rejects.toThrow(/column selector '".price"' for 'last' matches nothing.*snapshot/);
  });
});
