export { landFile } from "./file.ts";
export {
  createSecretStore,
  secretStoreFromConfig,
  secretsDir,
  parseSecretKey,
  type SecretStore,
} from "./secrets.ts";
export {
  recordRun,
  listRuns,
  runSource,
  redactParameters,
  snapshotSource,
  type RunRecord,
  type Run,
  type SourceContext,
  type SourceKind,
} from "./runs.ts";
export { createHostLimiter, type HostLimiter, type HostLimitOptions } from "./rateLimit.ts";
export { DEFAULT_RETRY, backoffDelay, parseRetryAfter, type RetryPolicy } from "./retry.ts";
export { totpCode } from "./totp.ts";
export { launchChromium, CHROMIUM_PATH, CHROMIUM_ARGS } from "./chromium.ts";
export {
  runBrowserSource,
  type BrowserSourceSpec,
  type BrowserSourceResult,
  type BrowserPage,
} from "./browser.ts";
export { sessionSecretName, type BrowserLoginSpec } from "./browserSession.ts";
export { runHtmlSource, type HtmlSourceSpec, type HtmlSourceResult } from "./html.ts";
export { extractRows, type TableSpec, type Row } from "./htmlTable.ts";
export { decodeText } from "./charset.ts";
export { runApiSource, type ApiSourceSpec, type ApiSourceResult } from "./api.ts";
export type { Pagination } from "./pagination.ts";
export { runPostgresSource, type PostgresSourceSpec, type PostgresSourceResult } from "./postgres.ts";
export type { ColumnMapping } from "./pgTypes.ts";
export { startSampleSite, sampleSourcesDir, type SampleSite } from "./sampleSite.ts";
