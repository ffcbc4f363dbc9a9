/**
 * A tiny site on 127.0.0.1 (random port) serving the bundled sample inputs, so the demo
 * loaders exercise the real html, api and browser sources with no external site and no
 * internet: a windows-1252 HTML table, a JSON API with cursor pagination and ETags, a page that
 * renders a table from that API with a script, and a robots.txt.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

export interface SampleSite {
  origin: string;
  close(): Promise<void>;
}

const PAGE_SIZE = 5;

export async function startSampleSite(samplesDir: string): Promise<SampleSite> {
  const { default: express } = await import("express");
  const stations = await readFile(join(samplesDir, "stations.html"));
  const readings = JSON.parse(await readFile(join(samplesDir, "readings.json"), "utf8")) as unknown[];
  const app = express();
  app.get(
    "/robots.txt",
    (_req, res) => void res.type("text/plain").send("User-agent: *\nDisallow: /admin/\n"),
  );
  app.get("/stations.html", (_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=windows-1252" }).end(stations);
  });
  app.get("/api/readings", (req, res) => {
    const cursor = Number(req.query.cursor ?? 0);
    const next = cursor + PAGE_SIZE < readings.length ? String(cursor + PAGE_SIZE) : null;
    const body = JSON.stringify({ data: readings.slice(cursor, cursor + PAGE_SIZE), next_cursor: next });
    const etag = `"${createHash("sha256").update(body).digest("hex").slice(0, 16)}"`;
    res.set("etag", etag).set("cache-control", "no-cache");
    if (req.headers["if-none-match"] === etag) return void res.status(304).end();
    res.type("application/json").send(body);
  });
  app.get("/live.html", (_req, res) => {
    const script = `fetch("/api/readings").then((r) => r.json()).then(({data}) => {
  const rows = data.map((d) => "<tr><td>" + d.station + "</td><td>" + d.date + "</td><td>" + d.level_m + "</td></tr>").join("");
  document.body.insertAdjacentHTML("beforeend", '<table id="latest"><thead><tr><th>station</th><th>date</th><th>level_m</th></tr></thead><tbody>' + rows + "</tbody></table>");
});`;
    res.send(
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Latest readings</title>` +
        `<script>${script}</script></head><body><h1>Latest readings</h1></body></html>`,
    );
  });
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Where the bundled samples live in a project. */
export function sampleSourcesDir(root: string): string {
  return join(root, "data", "samples", "sources");
}
