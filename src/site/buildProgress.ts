/**
 * What a build reports while it runs: a line per phase, a decision and a result per data loader
 * (with its time and bytes) and the page count. The CLI prints these on a terminal (or as JSON
 * lines with `--json`); a build run streams them to its log and progress on the Runs page.
 *
 * Loader runs are observed where Framework runs them (loaderRuns.ts); the page count is read from
 * Framework's `built 6 pages in …` line (`parseFrameworkLine`), which an upgrade must re-check.
 */

/** prepare: loader decisions; pages: Framework, its npm bundles and the loaders it runs. */
export type BuildPhase = "prepare" | "pages" | "check" | "publish";

export type BuildProgress =
  | {
      readonly kind: "phase";
      readonly phase: BuildPhase;
      readonly durationMs: number;
      readonly detail?: string;
    }
  | {
      readonly kind: "decision";
      readonly target: string;
      readonly action: "reuse" | "rerun";
      readonly reason: string;
    }
  | {
      /** A loader that ran (a reused output has only its decision). */
      readonly kind: "loader";
      readonly target: string;
      readonly status: "success" | "error";
      readonly bytes: number;
      readonly durationMs: number;
      readonly error?: string;
    }
  | { readonly kind: "pages"; readonly count: number };

export type ProgressListener = (event: BuildProgress) => void;

const PAGES_LINE = /built (\d+) pages? in /;

/** The progress event a line of Framework's build output stands for, if any. */
export function parseFrameworkLine(line: string): BuildProgress | undefined {
  const pages = PAGES_LINE.exec(line);
  if (pages) return { kind: "pages", count: Number(pages[1]) };
  return undefined;
}

/** One human line per event, as `lakebook build` prints on a terminal. */
export function formatProgress(event: BuildProgress): string {
  switch (event.kind) {
    case "phase":
      return `${event.phase.padEnd(8)} ${seconds(event.durationMs)}${event.detail ? `  ${event.detail}` : ""}`;
    case "decision":
      return `loader   ${event.target}: ${event.action === "reuse" ? "reused" : "rerun"}: ${event.reason}`;
    case "loader":
      return event.status === "success"
        ? `loader   ${event.target}: ran in ${seconds(event.durationMs)}, ${formatBytes(event.bytes)}`
        : `loader   ${event.target}: failed in ${seconds(event.durationMs)}: ${event.error}`;
    case "pages":
      return `pages    ${event.count} built`;
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
