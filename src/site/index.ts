/**
 * The static site: offline Observable Framework builds of `notebooks/`, published atomically.
 * See build.ts for the steps, localNpm.ts for how pages get their libraries without a CDN, and
 * projectBuild.ts for offline builds of any Framework project (project.ts tells them apart).
 */
export {
  buildSite,
  DEFAULT_KEEP_BUILDS,
  type BuildSiteEffects,
  type BuildSiteOptions,
  type BuildSiteResult,
} from "./build.ts";
export { linkLoaders, LOADERS_LINK } from "./loaders.ts";
export {
  formatProgress,
  parseFrameworkLine,
  type BuildPhase,
  type BuildProgress,
  type ProgressListener,
} from "./buildProgress.ts";
export {
  matchesLoader,
  planLoaders,
  recordLoaderRuns,
  type LoaderDecision,
  type LoaderRecord,
} from "./loaderCache.ts";
export { findOffOriginReferences, type OffOriginReference } from "./offOrigin.ts";
export {
  BUILDS_DIR,
  CURRENT_LINK,
  createBuildId,
  listBuilds,
  maybeCurrentBuild,
  pruneBuilds,
  switchCurrent,
} from "./publish.ts";
export { DUCKDB_WASM_VERSION, prepareNpmCache } from "./vendor.ts";
export { FONT_ENTRY, selfHostedStylesheets, writeFontStylesheet } from "./fonts.ts";
export { createLocalNpm, LAKEBOOK_ROOT, MissingPackageError, type LocalNpm } from "./localNpm.ts";
export { guardFrameworkDownloads, type NetworkGuard } from "./networkGuard.ts";
export { prepareCache, withOfflineDuckDB } from "./frameworkRun.ts";
export {
  detectProject,
  readFrameworkProject,
  type FrameworkProject,
  type Project,
  type ProjectKind,
} from "./project.ts";
export { buildFrameworkProject, offlineSpec, type ProjectBuildResult } from "./projectBuild.ts";
export { loadFramework, readFrameworkSpec } from "./framework.ts";
export {
  accessOf,
  PAGE_ACCESS_FILE,
  readPageAccess,
  writePageAccess,
  type PageAccessRule,
} from "./pageAccess.ts";
export { publishBuild, rollback, curatedVersions, type PublishEffects } from "./recordedBuild.ts";
export {
  entityPaths,
  findEntityPages,
  normalizeDynamicPaths,
  pathsFrom,
  resolveEntityPaths,
  type EntityPage,
} from "./entityPaths.ts";
