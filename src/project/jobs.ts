/**
 * Job names, shared by runs, schedules and the project config: `build` (build and publish the
 * site), `run` (the whole project), `run:<selection>` (e.g. `run:+curated.prices`, terms
 * separated by spaces or commas), and several of these in order, separated by `;`
 * (`run:raw.quotes+;build`). `pipeline:market` is the former name of the demo's run and means
 * `run`.
 */
import { ConfigError } from "../errors.ts";
import { loadProject } from "./discover.ts";
import { parseSelection, selectNodes } from "./selection.ts";

export type JobStep = { kind: "run"; selection: string[] } | { kind: "build" };

export const JOB_PATTERN = /^[A-Za-z0-9:;+_.,* -]{1,200}$/;

export function parseJob(job: string): JobStep[] {
  if (!JOB_PATTERN.test(job))
    throw new ConfigError(`invalid job '${job}': e.g. build, run, run:+curated.prices or run;build`);
  return job.split(";").map((part): JobStep => {
    const text = part.trim();
    if (text === "build") return { kind: "build" };
    if (text === "run" || text === "pipeline:market") return { kind: "run", selection: [] };
    if (text.startsWith("run:")) {
      const selection = text
        .slice(4)
        .split(/[\s,]+/)
        .filter(Boolean);
      parseSelection(selection);
      return { kind: "run", selection };
    }
    throw new ConfigError(
      `invalid job step '${text}': use build, run or run:<selection> (steps separated by ';')`,
    );
  });
}

/**
 * Checks, before a run is queued, that every selection of `job` names something in the project
 * at `root` (a typo answers at once, not as a failed run). Job names that are not project jobs
 * (`build`, a server's own jobs) pass; a project that does not load throws its own error.
 */
export async function checkProjectJob(root: string, job: string): Promise<void> {
  let steps: JobStep[];
  try {
    steps = parseJob(job);
  } catch {
    return;
  }
  const selections = steps.flatMap((step) =>
    step.kind === "run" && step.selection.length > 0 ? [step.selection] : [],
  );
  if (selections.length === 0) return;
  const project = await loadProject(root);
  for (const selection of selections) selectNodes(project.graph, selection);
}
