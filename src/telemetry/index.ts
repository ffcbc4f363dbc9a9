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
