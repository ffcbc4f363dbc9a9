/**
 * The deployment files match the code: every metric the Grafana dashboard queries is exported by
 * server/metrics.ts; compose.yaml parses, its Lakebook services run commands the CLI has, with
 * only settings the code reads, and their health checks use routes the server answers.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { normalizeConfig } from "../src/config.ts";
import { createMetrics } from "../server/metrics.ts";
import { REPO_ROOT } from "./helpers/cli.ts";

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("deployment files", () => {
  it("the Grafana dashboard queries only metrics the server exports", async () => {
    const dashboard = JSON.parse(await readFile(join(REPO_ROOT, "deploy/grafana/lakebook.json"), "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const metrics = createMetrics(normalizeConfig({ root: REPO_ROOT }));
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets) {
        for (const match of target.expr.matchAll(/\b(lakebook_[a-z_]+|process_[a-z_]+|nodejs_[a-z_]+)\b/g)) {
          used.add(match[1]!.replace(/_(bucket|sum|count)$/, ""));
        }
      }
    }
    for (const wanted of [
      "lakebook_run_queue_depth",
      "lakebook_runs_total",
      "lakebook_run_duration_seconds",
      "lakebook_build_duration_seconds",
      "lakebook_lake_bytes",
      "lakebook_http_request_duration_seconds",
    ]) {
      expect(used).toContain(wanted);
    }
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it("compose.yaml runs CLI commands with settings the code reads, checked by routes the server has", async () => {
    const compose = parse(await readFile(join(REPO_ROOT, "compose.yaml"), "utf8"), { merge: true }) as {
      services: Record<
        string,
        { command?: string[]; environment?: Record<string, string>; healthcheck?: { test: string[] } }
      >;
    };
    const code = (
      await Promise.all(
        [...(await sources(join(REPO_ROOT, "src"))), ...(await sources(join(REPO_ROOT, "server")))].map(
          (file) => readFile(file, "utf8"),
        ),
      )
    ).join("\n");
    const read = new Set<string>();
    for (const match of code.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|"((?:LAKEBOOK|OTEL)_[A-Z0-9_]+)"/g))
      read.add(match[1] ?? match[2]!);
    // Read by the OpenTelemetry exporter itself.
    read.add("OTEL_EXPORTER_OTLP_ENDPOINT");
    const main = await readFile(join(REPO_ROOT, "src/cli/main.ts"), "utf8");
    const app = await readFile(join(REPO_ROOT, "server/app.ts"), "utf8");
    const lakebookServices = Object.entries(compose.services).filter(
      ([, s]) => s.command?.[1] === "bin/lakebook.js",
    );
    expect(lakebookServices.map(([name]) => name).sort()).toEqual(["server-1", "server-2", "worker"]);
    for (const [name, service] of lakebookServices) {
      const command = service.command![2]!;
      expect(main, `${name}: lakebook ${command}`).toContain(`  ${command}: async () =>`);
      const env = Object.keys(service.environment ?? {});
      expect(env, name).toContain("DATABASE_URL");
      expect(
        env.filter((key) => !read.has(key)),
        `${name}: settings nothing reads`,
      ).toEqual([]);
      if (service.healthcheck) {
        const route = /http:\/\/127\.0\.0\.1:3000(\/[a-z]+)/.exec(service.healthcheck.test.join(" "))?.[1];
        expect(app).toContain(`app.get("${route}"`);
        expect(service.environment?.PORT).toBe("3000");
      }
    }
    expect(compose.services.worker?.command).toContain("--concurrency");
  });
});
