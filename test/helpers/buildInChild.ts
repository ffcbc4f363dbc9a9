/**
 * Runs one buildSite for the project at argv[2] (lake and site in argv[3] and argv[4] when not
 * empty) and prints the result, or the error, as JSON on the last line. Spawned by
 * offlineBuild.ts inside an empty network namespace.
 */
import { normalizeConfig } from "../../src/config.ts";
import { buildSite } from "../../src/site/index.ts";

const [root, lakeDir, siteDir] = process.argv.slice(2);
try {
  const result = await buildSite(
    normalizeConfig({ root, ...(lakeDir && { lakeDir }), ...(siteDir && { siteDir }) }),
  );
  console.log(JSON.stringify({ ok: true, result }));
} catch (error) {
  const { name, message, code } = error as { name: string; message: string; code?: string };
  console.log(JSON.stringify({ ok: false, error: { name, code, message } }));
  process.exitCode = 1;
}
