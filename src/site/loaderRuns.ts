/**
 * Which data loaders a Framework build actually ran, with time and bytes. Framework reports loaders
 * only as text on its output, and loaders running at once interleave there (`load a → load b →
 * [fresh] [missing] success …`), so the runs are observed at their source instead: the `exec`
 * method of Framework's CommandLoader, which it calls only when a loader really runs. The class is
 * not exported; its prototype is reached through a LoaderResolver finding a throwaway loader file.
 * Builds in one process run one at a time (build.ts), so the wrapper is installed per build.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FrameworkLoaderResolver } from "./framework.ts";

export interface LoaderRun {
  /** The served file relative to the Framework root, e.g. `data/market.json`. */
  readonly target: string;
  readonly status: "success" | "error";
  readonly durationMs: number;
  readonly bytes: number;
  readonly error?: string;
}

type Exec = (this: LoaderInstance, ...args: unknown[]) => Promise<void>;
interface LoaderInstance {
  readonly root: string;
  readonly targetPath: string;
}
interface CommandLoaderPrototype {
  exec: Exec;
}

let prototype: CommandLoaderPrototype | undefined;

function commandLoaderPrototype(
  createResolver: (root: string) => FrameworkLoaderResolver,
): CommandLoaderPrototype {
  if (prototype) return prototype;
  const root = mkdtempSync(join(tmpdir(), "lakebook-loader-probe-"));
  try {
    writeFileSync(join(root, "probe.txt.js"), "");
    const loader = createResolver(root).find("/probe.txt");
    const found = loader && (Object.getPrototypeOf(loader) as Partial<CommandLoaderPrototype>);
    if (!found || typeof found.exec !== "function") {
      throw new Error(
        "Framework's CommandLoader has no exec method: re-check src/site/loaderRuns.ts against it",
      );
    }
    prototype = found as CommandLoaderPrototype;
    return prototype;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** Calls `onRun` after each loader Framework runs; returns the function that stops observing. */
export function observeLoaderRuns(
  createResolver: (root: string) => FrameworkLoaderResolver,
  onRun: (run: LoaderRun) => void,
): () => void {
  const proto = commandLoaderPrototype(createResolver);
  const original = proto.exec;
  proto.exec = async function exec(this: LoaderInstance, ...args: unknown[]): Promise<void> {
    const started = performance.now();
    const target = this.targetPath.replace(/^\//, "");
    // Framework writes the output to `<cache>/<target>.<pid>` and renames it after exec.
    const output = join(this.root, ".observablehq", "cache", `${this.targetPath}.${process.pid}`);
    const durationMs = () => Math.round(performance.now() - started);
    try {
      await original.apply(this, args);
    } catch (error) {
      onRun({
        target,
        status: "error",
        durationMs: durationMs(),
        bytes: 0,
        error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    let bytes = 0;
    try {
      bytes = statSync(output).size;
    } catch {
      // Renamed already or never written: the size is only informative.
    }
    onRun({ target, status: "success", durationMs: durationMs(), bytes });
  };
  return () => {
    proto.exec = original;
  };
}
