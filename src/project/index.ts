export {
  defineSource,
  normalizeSource,
  type SourceDefinition,
  type FileSourceDefinition,
  type ApiSourceDefinition,
  type HtmlSourceDefinition,
  type BrowserSourceDefinition,
  type PostgresSourceDefinition,
  type ProjectSource,
  type ColumnsInput,
  type FileFormat,
} from "./defineSource.ts";
export {
  defineConfig,
  normalizeProjectConfig,
  loadProjectConfig,
  type ProjectConfig,
  type ProjectConfigInput,
  type ProjectSchedule,
  type ScheduleInput,
} from "./projectConfig.ts";
export { parseModel, type ProjectModel, type ModelSettings, type ModelReference } from "./modelFile.ts";
export { findReferences, rewriteSql, type SqlReference } from "./sqlRefs.ts";
export { buildGraph, type ProjectGraph, type GraphNode } from "./graph.ts";
export { parseSelection, selectNodes, type SelectionTerm } from "./selection.ts";
export { checkProjectJob, parseJob, type JobStep } from "./jobs.ts";
export { loadProject, loadSources, loadModels, type Project } from "./discover.ts";
export {
  runProject,
  type RunSummary,
  type StepResult,
  type StepStatus,
  type RunEvent,
  type RunOptions,
} from "./runProject.ts";
export { runSourceStep, type SourceStepResult } from "./sourceStep.ts";
export { modelStep, runModelStep } from "./modelStep.ts";
export { listProject, type ListEntry } from "./listing.ts";
