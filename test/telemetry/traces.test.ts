/**
 * One trace per run across processes: a run started by an HTTP request on a server (this process)
 * and executed by a `lakebook worker` (a child process) is exported over OTLP/HTTP to a receiver
 * on loopback as one trace: HTTP request -> run -> attempt -> DuckDB queries; the worker's JSON log
 * line for the run carries the trace id.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../src/logger.ts";
import { startTracing, type Tracing } from "../../src/telemetry/index.ts";
import { createApp, servicesOf } from "../../server/index.ts";
import { eventually } from "../helpers/eventually.ts";
import { addUser, as, login } from "../server/authHelpers.ts";
import { openCluster, type Cluster } from "../worker/cluster.ts";

interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}

interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: { traceId: string; spanId: string; parentSpanId?: string; name: string }[] }[];
  }[];
}

describe("OpenTelemetry traces across server and worker", () => {
  const spans: ReceivedSpan[] = [];
  let receiver: Server;
  let endpoint: string;
  let tracing: Tracing;
  let cluster: Cluster;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (req.url === "/v1/traces") {
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as OtlpBody;
          for (const resource of body.resourceSpans) {
            const service =
              resource.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
            for (const scope of resource.scopeSpans) {
              for (const span of scope.spans) {
                spans.push({ service, ...span, parentSpanId: span.parentSpanId ?? "" });
              }
            }
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint;
    tracing = await startTracing("lakebook-server");
    cluster = await openCluster({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    await tracing?.shutdown();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await new Promise((resolve) => receiver?.close(resolve));
  }, 60_000);

  it("exports HTTP request -> run -> attempt -> DuckDB query as one trace, from two processes", async () => {
    expect(tracing.enabled).toBe(true);
    const side = await cluster.startServerSide();
    const worker = cluster.spawnWorker();
    const workerId = await worker.id;
    await addUser(side.store, "ada", "admin");
    const app = createApp(cluster.config, {
      store: side.store,
      queue: side.queue,
      logger: silentLogger,
      schedules: false,
    });
    const http = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => http.once("listening", resolve));
    try {
      const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      const session = await login(base, "ada");
      const response = await fetch(
        `${base}/api/runs`,
        as(session, { method: "POST", json: { job: "pipeline:market" } }),
      );
      expect(response.status).toBe(202);
      const run = (await response.json()) as { id: string };
      expect(await side.runner.settled(run.id)).toMatchObject({ status: "succeeded", workerId });

      const request = await eventually(
        () => spans.find((s) => s.name === "HTTP POST /api/runs" && s.service === "lakebook-server"),
        "the server's request span",
        20_000,
      );
      const runSpan = await eventually(
        () => spans.find((s) => s.name === "run pipeline:market" && s.service === "lakebook-worker"),
        "the worker's run span",
        20_000,
      );
      expect(runSpan.traceId).toBe(request.traceId);
      expect(runSpan.parentSpanId).toBe(request.spanId);
      const attempt = await eventually(
        () => spans.find((s) => s.name === "attempt 1" && s.parentSpanId === runSpan.spanId),
        "the attempt span",
        20_000,
      );
      const inTrace = spans.filter((s) => s.traceId === request.traceId);
      const byId = new Map(inTrace.map((s) => [s.spanId, s]));
      const queries = inTrace.filter((s) => s.name === "duckdb query");
      expect(queries.length).toBeGreaterThan(0);
      // Every DuckDB query descends from the attempt, within the one trace.
      for (const query of queries) {
        let parent = byId.get(query.parentSpanId);
        while (parent && parent.spanId !== attempt.spanId) parent = byId.get(parent.parentSpanId);
        expect(parent?.spanId).toBe(attempt.spanId);
      }
      // The worker's JSON log line for the run carries the trace id.
      const started = worker
        .output()
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { msg?: string; runId?: string; trace_id?: string })
        .find((entry) => entry.msg === "run started" && entry.runId === run.id);
      expect(started?.trace_id).toBe(request.traceId);
    } finally {
      await servicesOf(app).shutdown(1000);
      await new Promise((resolve) => http.close(resolve));
      worker.child.kill("SIGTERM");
      await worker.exited;
    }
  }, 120_000);
});
