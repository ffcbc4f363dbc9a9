/**
 * A local site for the source tests, on 127.0.0.1 port 0: a login form with a TOTP step and
 * expiring session cookies, server-rendered paginated tables, a page rendering a table from a
 * JSON fetch, flaky and rate-limited endpoints, a JSON API with cursor/offset/Link pagination
 * and ETags, pages in windows-1252, a robots.txt, and the bad inputs (changed layout, invalid
 * JSON, an HTML error page served with 200).
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import express, { type Request } from "express";
import { Secret, TOTP } from "otpauth";

export const USERNAME = "analyst";
export const PASSWORD = "correct horse battery staple";
export const TOTP_SEED = new Secret({ size: 20 }).base32;

export interface FixtureSite {
  origin: string;
  /** Requests per path (without query), for retry and conditional-request assertions. */
  hits: Map<string, number>;
  logins: number;
  /** Ends every session on the server, as a site does when cookies expire. */
  expireSessions(): void;
  /** Changes the API items, so their ETags change. */
  setItemsVersion(version: number): void;
  /** Resets the flaky and rate-limited endpoints' failure counters. */
  resetFailures(): void;
  /** Headers of the last request per path. */
  lastHeaders: Map<string, Record<string, string | string[] | undefined>>;
  close(): Promise<void>;
}

const page = (title: string, body: string, head = "") =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>${body}</body></html>`;

function pricesTable(pageNumber: number): string {
  const rows = [1, 2]
    .map((i) => {
      const n = (pageNumber - 1) * 2 + i;
      return `<tr><td>T${n}</td><td>${(n * 10.5).toFixed(2)}</td></tr>`;
    })
    .join("");
  const next = pageNumber < 3 ? `<a class="next" href="/app/prices?page=${pageNumber + 1}">Next</a>` : "";
  return `<table id="prices"><thead><tr><th>Ticker</th><th>Price</th></tr></thead><tbody>${rows}</tbody></table>${next}`;
}

export async function startFixtureSite(): Promise<FixtureSite> {
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  const sessions = new Map<string, number>();
  const pending = new Set<string>();
  const failures = new Map<string, number>();
  let itemsVersion = 1;
  const site = {
    hits: new Map<string, number>(),
    lastHeaders: new Map<string, Record<string, string | string[] | undefined>>(),
    logins: 0,
  };
  const totp = new TOTP({ secret: Secret.fromBase32(TOTP_SEED), algorithm: "SHA1", digits: 6, period: 30 });

  app.use((req, _res, next) => {
    site.hits.set(req.path, (site.hits.get(req.path) ?? 0) + 1);
    site.lastHeaders.set(req.path, req.headers);
    next();
  });
  const cookie = (req: Request, name: string) =>
    new RegExp(`(?:^|;\\s*)${name}=([^;]+)`).exec(req.headers.cookie ?? "")?.[1];
  const failFirst = (key: string, times: number) => {
    const seen = failures.get(key) ?? 0;
    failures.set(key, seen + 1);
    return seen < times;
  };

  app.get("/robots.txt", (_req, res) => {
    res.type("text/plain").send("User-agent: *\nDisallow: /private/\nAllow: /private/open.html\n");
  });

  // Login: password form, then a TOTP form, then a session cookie.
  const loginForm = (error = "") =>
    page(
      "Sign in",
      `${error && `<p class="error">${error}</p>`}<form method="post" action="/login">` +
        `<input name="username" id="username"><input name="password" id="password" type="password">` +
        `<button type="submit" id="sign-in">Sign in</button></form>`,
    );
  app.get("/login", (_req, res) => res.send(loginForm()));
  app.post("/login", (req, res) => {
    if (req.body.username !== USERNAME || req.body.password !== PASSWORD) {
      res.status(200).send(loginForm("Invalid username or password"));
      return;
    }
    const token = randomBytes(16).toString("hex");
    pending.add(token);
    res.cookie("pending", token, { httpOnly: true, sameSite: "lax" }).redirect(303, "/totp");
  });
  const totpForm = (error = "") =>
    page(
      "Verify",
      `${error && `<p class="error">${error}</p>`}<form method="post" action="/totp">` +
        `<input name="code" id="code" inputmode="numeric"><button type="submit" id="verify">Verify</button></form>`,
    );
  app.get("/totp", (req, res) => {
    if (!pending.has(cookie(req, "pending") ?? "")) return void res.redirect(303, "/login");
    res.send(totpForm());
  });
  app.post("/totp", (req, res) => {
    const token = cookie(req, "pending") ?? "";
    if (!pending.has(token)) return void res.redirect(303, "/login");
    if (totp.validate({ token: String(req.body.code ?? ""), window: 1 }) === null) {
      res.send(totpForm("Invalid code"));
      return;
    }
    pending.delete(token);
    site.logins += 1;
    const sid = randomBytes(16).toString("hex");
    sessions.set(sid, Date.now() + 10 * 60_000);
    res
      .cookie("sid", sid, { httpOnly: true, sameSite: "lax", maxAge: 10 * 60_000 })
      .redirect(303, "/app/prices");
  });

  // Everything under /app needs a live session.
  app.use("/app", (req, res, next) => {
    const sid = cookie(req, "sid");
    const expires = sid ? sessions.get(sid) : undefined;
    if (expires === undefined || expires < Date.now()) {
      if (req.path.startsWith("/api/")) return void res.status(401).json({ error: "login required" });
      return void res.redirect(303, "/login");
    }
    next();
  });
  app.get("/app/prices", (req, res) => {
    const n = Math.min(3, Math.max(1, Number(req.query.page ?? 1)));
    res.send(page(`Prices ${n}`, pricesTable(n)));
  });
  app.get("/app/flaky", (_req, res) => {
    if (failFirst("app-flaky", 2)) return void res.status(503).send(page("Busy", "<p>Try again</p>"));
    res.send(page("Prices", pricesTable(3)));
  });
  app.get("/app/changed", (_req, res) => {
    res.send(page("Prices", `<div class="grid"><div>T1</div><div>10.50</div></div>`));
  });
  app.get("/app/live", (_req, res) => {
    const script = `fetch("/app/api/live.json").then(r => r.json()).then(data => {
      const rows = data.quotes.map(q => "<tr><td>" + q.symbol + "</td><td>" + q.last + "</td></tr>").join("");
      document.body.insertAdjacentHTML("beforeend", '<table id="live"><thead><tr><th>Symbol</th><th>Last</th></tr></thead><tbody>' + rows + "</tbody></table>");
    });`;
    res.send(page("Live", "<h1>Live quotes</h1>", `<script>${script}</script>`));
  });
  app.get("/app/api/live.json", (_req, res) => {
    res.json({
      quotes: [
        { symbol: "MSFT", last: "39.81" },
        { symbol: "IBM", last: "100.52" },
      ],
    });
  });
  app.get("/app/badjson", (_req, res) => {
    const script = `fetch("/app/api/bad.json").then(r => r.text()).then(() => document.body.insertAdjacentHTML("beforeend", '<table id="live"><tr><th>x</th></tr><tr><td>1</td></tr></table>'));`;
    res.send(page("Bad", "<h1>Bad</h1>", `<script>${script}</script>`));
  });
  app.get("/app/api/bad.json", (_req, res) => {
    res.type("application/json").send('{"quotes": [');
  });

  // JSON API.
  const items = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, name: `item-${i + 1}` }));
  app.get("/api/items", (req, res) => {
    const cursor = Number(req.query.cursor ?? 0);
    const etag = `"items-${cursor}-v${itemsVersion}"`;
    res.set("etag", etag);
    if (req.headers["if-none-match"] === etag) return void res.status(304).end();
    const pageItems = items.slice(cursor, cursor + 2).map((item) => ({ ...item, version: itemsVersion }));
    const next = cursor + 2 < items.length ? String(cursor + 2) : null;
    res.json({ data: pageItems, next_cursor: next });
  });
  app.get("/api/dated", (req, res) => {
    const modified = new Date("2024-05-01T00:00:00Z");
    const since = Date.parse(String(req.headers["if-modified-since"] ?? ""));
    res.set("last-modified", modified.toUTCString());
    if (!Number.isNaN(since) && since >= modified.getTime()) return void res.status(304).end();
    res.json({ items: [{ id: 1 }] });
  });
  app.get("/api/offset", (req, res) => {
    const offset = Number(req.query.offset ?? 0);
    const limit = Number(req.query.limit ?? 2);
    res.json(items.slice(offset, offset + limit));
  });
  app.get("/api/linked", (req, res) => {
    const n = Number(req.query.page ?? 1);
    if (n < 3) res.set("link", `</api/linked?page=${n + 1}>; rel="next", </api/linked?page=1>; rel="first"`);
    res.json({ items: [{ page: n }] });
  });
  app.get("/api/limited", (_req, res) => {
    if (failFirst("api-limited", 1))
      return void res.status(429).set("retry-after", "1").json({ error: "slow down" });
    res.json({ items: [{ ok: true }] });
  });
  app.get("/api/flaky", (_req, res) => {
    if (failFirst("api-flaky", 2)) return void res.status(503).json({ error: "busy" });
    res.json({ items: [{ ok: true }] });
  });
  app.get("/api/down", (_req, res) => void res.status(503).json({ error: "down" }));
  app.get("/api/invalid", (_req, res) => void res.type("application/json").send('{"items": [1, 2'));
  app.get("/api/errorpage", (_req, res) => {
    res.status(200).type("text/html").send(page("Error", "<h1>Service temporarily unavailable</h1>"));
  });

  // HTML pages.
  app.get("/html/prices.html", (_req, res) => void res.send(page("Prices", pricesTable(1))));
  app.get("/html/quotes.html", (_req, res) => {
    res.send(
      page(
        "Quotes",
        `<ul class="quotes"><li class="q" data-id="a1"><span class="sym">MSFT</span> <b>39.81</b></li>` +
          `<li class="q" data-id="a2"><span class="sym">IBM</span> <b>100.52</b></li></ul>`,
      ),
    );
  });
  // Every character used is in Latin-1 except the euro sign, which windows-1252 has at 0x80.
  const cp1252 = (text: string) => Buffer.from([...text].map((ch) => (ch === "€" ? 0x80 : ch.charCodeAt(0))));
  const cafeTable = `<table id="t"><tr><th>Name</th><th>City</th><th>Price</th></tr><tr><td>Café</td><td>Zürich</td><td>€5</td></tr></table>`;
  app.get("/html/latin1", (_req, res) => {
    res
      .set("content-type", "text/html; charset=ISO-8859-1")
      .send(cp1252(`<html><body>${cafeTable}</body></html>`));
  });
  app.get("/html/meta", (_req, res) => {
    // Raw headers: Express would add "; charset=utf-8" to a text/html it is given.
    res.writeHead(200, { "content-type": "text/html" });
    res.end(cp1252(`<html><head><meta charset="windows-1252"></head><body>${cafeTable}</body></html>`));
  });
  app.get("/html/error200", (_req, res) => void res.send(page("Oops", "<h1>Something went wrong</h1>")));
  app.get("/private/data.html", (_req, res) => void res.send(page("Private", pricesTable(1))));
  app.get("/private/open.html", (_req, res) => void res.send(page("Open", pricesTable(2))));

  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get hits() {
      return site.hits;
    },
    get lastHeaders() {
      return site.lastHeaders;
    },
    get logins() {
      return site.logins;
    },
    expireSessions() {
      for (const sid of sessions.keys()) sessions.set(sid, 0);
    },
    setItemsVersion(version) {
      itemsVersion = version;
    },
    resetFailures() {
      failures.clear();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
