/**
 * OpenTelemetry tracing. Spans are made through `@opentelemetry/api` alone, which does nothing
 * until a tracer provider is registered: with `OTEL_EXPORTER_OTLP_ENDPOINT` unset, no SDK is ever
 * loaded and every span is a no-op. `startTracing` (servers and workers call it at start) imports
 * the SDK lazily and exports spans over OTLP/HTTP to `$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces`.
 *
 * One trace per run: the span that creates a run (an HTTP request, a schedule tick) is carried in
 * the queued message as a W3C `traceparent`, and the worker's run span is its child.
 */
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";

export { SpanKind, type Span };

export interface Tracing {
  /** True when spans are exported (OTEL_EXPORTER_OTLP_ENDPOINT set). */
  readonly enabled: boolean;
  /** Sends the spans still buffered and stops. */
  shutdown(): Promise<void>;
}

let active: Tracing | undefined;

export async function startTracing(
  serviceName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Tracing> {
  if (active) return active;
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    active = { enabled: false, shutdown: () => Promise.resolve() };
    return active;
  }
  const [
    { TracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { AsyncLocalStorageContextManager },
    resources,
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/context-async-hooks"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new TracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": env.OTEL_SERVICE_NAME ?? serviceName,
      "process.pid": process.pid,
    }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter(), scheduledDelayMillis: 500 }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  active = {
    enabled: true,
    async shutdown() {
      await provider.shutdown();
    },
  };
  return active;
}

function tracer() {
  return trace.getTracer("lakebook");
}

/** Runs `work` inside a new span (child of `parent`, else of the active span); records errors. */
export async function withSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  options: { parent?: Context; kind?: SpanKind } = {},
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { attributes, ...(options.kind !== undefined && { kind: options.kind }) },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Starts a span the caller ends (HTTP requests); `enter` runs with it active. */
export function startSpan(
  name: string,
  attributes: Attributes,
  kind: SpanKind,
): { span: Span; context: Context } {
  const span = tracer().startSpan(name, { attributes, kind });
  return { span, context: trace.setSpan(context.active(), span) };
}

export function runInContext<T>(ctx: Context, work: () => T): T {
  return context.with(ctx, work);
}

/** The active span as a W3C trace context carrier, for a queued run; undefined when none. */
export function injectTrace(): Record<string, string> | undefined {
  const span = trace.getActiveSpan();
  const ctx = span?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return undefined;
  return { traceparent: `00-${ctx.traceId}-${ctx.spanId}-0${ctx.traceFlags.toString(16)}` };
}

/** The context a carrier from `injectTrace` stands for (the root context when it is missing). */
export function extractTrace(carrier: Readonly<Record<string, string>> | undefined): Context {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(carrier?.traceparent ?? "");
  if (!match) return ROOT_CONTEXT;
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  });
}

/** Trace and span ids of the active span, for log lines. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
