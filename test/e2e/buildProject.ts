/**
 * Builds this repository's real notebooks and loaders with the lake and the published site in
 * the folders given as argv[2] and argv[3]; prints the result (or the error) as JSON on the last
 * line. The e2e setup runs it inside an empty network namespace to prove builds need no network.
 */
import { fileURLToPath } from "node:url";
import { normalizeConfig } from "../../src/config.ts";
import { buildSite } from "../../src/site/index.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const [lakeDir, siteDir] = process.argv.slice(2);
try {
  const result = await buildSite(normalizeConfig({ root, lakeDir, siteDir }));
  console.log(JSON.stringify({ ok: true, result }));
} catch (error) {
  const { name, message, code } = error as { name: string; message: string; code?: string };
  console.log(JSON.stringify({ ok: false, error: { name, code, message } }));
  process.exitCode = 1;
}
