/**
 * One browser module from a page component and the npm packages it imports, for a data loader to
 * print: `loaders/explorer-editor.js.ts` serves the explorer's CodeMirror editor this way.
 *
 * Why a loader output rather than `npm:` imports: Framework resolves every `npm:` package to its
 * own self-contained bundle (localNpm.ts), so packages that must share one instance of a
 * dependency (CodeMirror's view, language, autocomplete and lint all hold @codemirror/state's
 * classes) would each get a copy and fail at run time. A loader output is a FileAttachment:
 * Framework names it by content hash under `/_file/`, the server caches it `immutable`, and the
 * build precompresses it like every other asset. The bundle is ES2022, minified, with no eval and
 * no import of anything off the site, so the strict Content-Security-Policy holds.
 */
import { build } from "esbuild";
import { BuildError } from "../errors.ts";

export interface BrowserBundleOptions {
  /** Minify (default true); false keeps names readable for debugging. */
  readonly minify?: boolean;
}

/** Bundles `entry` (a path or file URL) and all it imports into one ES module's source. */
export async function bundleBrowserModule(
  entry: string | URL,
  options: BrowserBundleOptions = {},
): Promise<string> {
  const entryPoint = entry instanceof URL ? decodeURIComponent(entry.pathname) : entry;
  try {
    const result = await build({
      entryPoints: [entryPoint],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      minify: options.minify ?? true,
      legalComments: "none",
      write: false,
      logLevel: "silent",
    });
    return result.outputFiles[0]!.text;
  } catch (error) {
    throw new BuildError(
      `could not bundle ${entryPoint} for the browser: ${(error as Error).message.split("\n")[0]}; ` +
        "check that the file exists and that every package it imports is installed (npm install --save-exact)",
      { cause: error },
    );
  }
}
