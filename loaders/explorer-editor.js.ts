// The explorer's SQL editor (CodeMirror 6 and notebooks/components/sqlEditor.js) as one ES module,
// served as FileAttachment("data/explorer-editor.js"): one content-hashed, immutable, precompressed
// file. It reads no lake data, so the loader cache reruns it on every build (esbuild: well under a
// second); an unchanged bundle keeps its hash, so browsers keep their cached copy.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bundleBrowserModule } from "lakebook";

// Through notebooks/data (a link to loaders/), so resolve the loader's real folder first.
const here = realpathSync(fileURLToPath(new URL(".", import.meta.url)));
process.stdout.write(await bundleBrowserModule(`${here}/../notebooks/components/sqlEditor.js`));
