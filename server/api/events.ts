/**
 * Server-Sent Events for the Runs page: `run` events carry a run record whenever it changes,
 * `log` events a log line, for runs executing in this process and in every other server on the
 * same store. The stream's first line (`retry:`) is sent once runs elsewhere are followed, so a
 * client that has read it misses nothing after. A comment every 15 s keeps proxies from closing
 * an idle stream. The stream ends when the server shuts down.
 */
import type { Request, Response } from "express";
import type { Run, RunLogLine } from "../../src/store/index.ts";
import type { Runner } from "../runs/runner.ts";

export function streamRunEvents(runner: Runner, req: Request, res: Response): void {
  res.status(200);
  res.setHeader("Content-Type", "text/event-stream; charset=utf-8");
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("X-Accel-Buffering", "no");
  res.flushHeaders();
  let id = 0;
  const send = (event: string, data: unknown): void => {
    id += 1;
    res.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const onRun = (run: Run) => send("run", run);
  const onLog = (line: RunLogLine) => send("log", line);
  const end = () => cleanup(true);
  const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
  keepAlive.unref();
  function cleanup(close: boolean): void {
    clearInterval(keepAlive);
    runner.events.off("run", onRun);
    runner.events.off("log", onLog);
    runner.events.off("close", end);
    if (close && !res.writableEnded) res.end();
  }
  runner.events.on("run", onRun);
  runner.events.on("log", onLog);
  runner.events.on("close", end);
  req.on("close", () => cleanup(false));
  void runner.watch().then(() => {
    if (!res.writableEnded && !res.destroyed) res.write("retry: 3000\n\n");
  });
}
