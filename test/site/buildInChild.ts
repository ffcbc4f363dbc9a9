/**
 * Runs one buildSite for the project at argv[2] and prints the result (or the error) as JSON on
 * the last line. Spawned by the tests inside an empty network namespace.
 */
import { normalizeConfig } from "../../src/config.ts";
import { buildSite } from "../../src/site/index.ts";

const root = process.argv[2];
try {
  const result = await buildSite(normalizeConfig({ root }));
  console.log(JSON.stringify({ ok: true, result }));
} catch (error) {
  const { name, message, code } = error as { name: string; message: string; code?: string };
  console.log(JSON.stringify({ ok: false, error: { name, code, message } }));
  process.exitCode = 1;
}
