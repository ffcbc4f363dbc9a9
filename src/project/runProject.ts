/**
 * `lakebook run [selection]`: the selected sources and models in dependency order, like
 * `dbt build`. A step starts once every selected step it reads from has finished; independent
 * branches run at the same time (up to `concurrency`). A step that fails, or whose quality gate
 * blocks it, stops only its downstream steps (reported as skipped); every other branch runs on.
 * Steps outside the selection are not run: their current versions are read as they are.
 */
import type { Config } from "../config.ts";
import { isLakebookError } from "../errors.ts";
import type { Lake } from "../lake/index.ts";
import type { Logger } from "../logger.ts";
import type { Project } from "./discover.ts";
import { runModelStep } from "./modelStep.ts";
import { selectNodes } from "./selection.ts";
import { runSourceStep } from "./sourceStep.ts";

export type StepStatus = "committed" | "unchanged" | "failed" | "blocked" | "skipped";

export interface StepResult {
  id: string;
  kind: "source" | "model";
  status: StepStatus;
  /** The dataset's version after the step (undefined when it has none). */
  version?: number;
  rows?: number;
  /** Rows rejected while parsing this run's landings (sources). */
  rejected?: number;
  /** The source run's id (sources). */
  sourceRun?: string;
  durationMs: number;
  /** Why it failed, was blocked or skipped. */
  message?: string;
  code?: string;
}

export interface RunSummary {
  ok: boolean;
  selected: string[];
  steps: StepResult[];
}

export type RunEvent = { type: "start"; id: string } | { type: "finish"; step: StepResult };

export interface RunOptions {
  /** Selection terms (see selection.ts); everything when empty. */
  selection?: string[];
  concurrency?: number;
  onEvent?: (event: RunEvent) => void;
  logger?: Logger;
  /** Run only the selected models: sources are not fetched, raw is read as it is (`lakebook promote`). */
  modelsOnly?: boolean;
  /** The clock source runs record (landing dates, run ids). */
  now?: () => Date;
}

export async function runProject(
  project: Project,
  context: { lake: Lake; config: Config },
  options: RunOptions = {},
): Promise<RunSummary> {
  const { graph } = project;
  const selected = selectNodes(graph, options.selection ?? []).filter(
    (id) => !options.modelsOnly || graph.nodes.get(id)!.kind === "model",
  );
  const inSelection = new Set(selected);
  const limit = Math.max(1, options.concurrency ?? project.config.concurrency);
  let running = 0;
  const waiting: (() => void)[] = [];
  const slot = async () => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
  };
  const release = () => {
    running--;
    waiting.shift()?.();
  };

  const results = new Map<string, Promise<StepResult>>();
  const execute = async (id: string): Promise<StepResult> => {
    const node = graph.nodes.get(id)!;
    const upstream = await Promise.all(
      node.upstream.filter((up) => inSelection.has(up)).map((up) => results.get(up)!),
    );
    const stopped = upstream.find(
      (r) => r.status === "failed" || r.status === "blocked" || r.status === "skipped",
    );
    if (stopped) {
      const step: StepResult = {
        id,
        kind: node.kind,
        status: "skipped",
        durationMs: 0,
        message: `upstream ${stopped.id} ${stopped.status === "skipped" ? "was skipped" : stopped.status}`,
      };
      options.onEvent?.({ type: "finish", step });
      return step;
    }
    await slot();
    const started = Date.now();
    options.onEvent?.({ type: "start", id });
    let step: StepResult;
    try {
      if (node.source) {
        const result = await runSourceStep(
          {
            lake: context.lake,
            config: context.config,
            root: project.root,
            ...(options.logger && { logger: options.logger }),
          },
          node.source,
        );
        const last = result.ingests[result.ingests.length - 1];
        step = {
          id,
          kind: "source",
          status: result.ingests.some((i) => i.created) ? "committed" : "unchanged",
          ...(last && { version: last.manifest.version, rows: last.manifest.rowCount }),
          rejected: result.ingests.reduce((sum, i) => sum + i.rejected, 0),
          sourceRun: result.run.runId,
          durationMs: Date.now() - started,
        };
      } else {
        const result = await runModelStep(context.lake, node.model!, project.suitesDir);
        step = {
          id,
          kind: "model",
          status: result.created ? "committed" : "unchanged",
          version: result.manifest.version,
          rows: result.manifest.rowCount,
          durationMs: Date.now() - started,
        };
      }
    } catch (error) {
      // Any error fails only this step and its downstream; one that is not a LakebookError is a
      // bug or an engine failure, reported with its own message under the code UNEXPECTED.
      const code = isLakebookError(error) ? error.code : "UNEXPECTED";
      step = {
        id,
        kind: node.kind,
        status: code === "QUALITY" ? "blocked" : "failed",
        durationMs: Date.now() - started,
        message: error instanceof Error ? error.message.split("\n")[0]! : String(error),
        code,
      };
    } finally {
      release();
    }
    options.onEvent?.({ type: "finish", step });
    return step;
  };
  for (const id of selected) results.set(id, execute(id));
  const steps = await Promise.all(selected.map((id) => results.get(id)!));
  return { ok: steps.every((s) => s.status === "committed" || s.status === "unchanged"), selected, steps };
}
