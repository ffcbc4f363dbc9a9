export {
  activeTraceIds,
  extractTrace,
  injectTrace,
  runInContext,
  SpanKind,
  startSpan,
  startTracing,
  withSpan,
  type Span,
  type Tracing,
} from "./tracing.ts";
export {
  Counter,
  Gauge,
  Histogram,
  Registry,
  createRegistry,
  createRunMetrics,
  serveMetrics,
  type MetricsServer,
  type RunMetrics,
} from "./metrics.ts";
