/**
 * The static site: offline Observable Framework builds of `notebooks/`, published atomically.
 * See build.ts for the steps and vendor.ts for how pages get their libraries without a CDN.
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
export {
  DUCKDB_WASM_VERSION,
  FONT_ENTRY,
  UNVENDORED_CLIENT_LIBRARIES,
  VENDORED_PACKAGES,
  vendorNpmCache,
  type VendoredPackage,
  type VendorOptions,
  type VendorResult,
} from "./vendor.ts";
export { loadFramework, readFrameworkSpec } from "./framework.ts";
export {
  accessOf,
  PAGE_ACCESS_FILE,
  readPageAccess,
  writePageAccess,
  type PageAccessRule,
} from "./pageAccess.ts";
export { publishBuild, rollback, curatedVersions, type PublishEffects } from "./recordedBuild.ts";
