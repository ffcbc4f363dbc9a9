/**
 * A tiny static server on 127.0.0.1:0 for the browser test: serves a built site with Framework's
 * clean URLs (`/explore` -> explore.html) and extra files (the "lake") with single Range support,
 * and records every request it answered.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".csv": "text/csv; charset=utf-8",
  ".wasm": "application/wasm",
  ".parquet": "application/vnd.apache.parquet",
};

export interface ServedRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly range: string | undefined;
  readonly bytes: number;
}

export interface StaticServer {
  readonly origin: string;
  readonly requests: ServedRequest[];
  close(): Promise<void>;
}

export async function startStaticServer(
  siteDir: string,
  extra: Record<string, string>,
): Promise<StaticServer> {
  const requests: ServedRequest[] = [];
  const server: Server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const range = req.headers.range;
    const answer = (status: number, bytes: number) =>
      requests.push({ method: req.method ?? "GET", path, status, range, bytes });
    let file = extra[path];
    if (!file) {
      const relative = normalize(path === "/" ? "/index.html" : extname(path) ? path : `${path}.html`);
      if (relative.includes("..")) return void (res.writeHead(400).end(), answer(400, 0));
      file = join(siteDir, relative);
    }
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) return void (res.writeHead(404).end(), answer(404, 0));
    const headers = {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "accept-ranges": "bytes",
    };
    const match = range ? /^bytes=(\d*)-(\d*)$/.exec(range) : null;
    if (match) {
      const start = match[1] ? Number(match[1]) : info.size - Number(match[2]);
      const end = match[1] && match[2] ? Math.min(Number(match[2]), info.size - 1) : info.size - 1;
      res.writeHead(206, {
        ...headers,
        "content-length": end - start + 1,
        "content-range": `bytes ${start}-${end}/${info.size}`,
      });
      answer(206, req.method === "HEAD" ? 0 : end - start + 1);
      if (req.method === "HEAD") return void res.end();
      return void createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, { ...headers, "content-length": info.size });
    answer(200, req.method === "HEAD" ? 0 : info.size);
    if (req.method === "HEAD") return void res.end();
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
