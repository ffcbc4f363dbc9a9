import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";
import { createLogger } from "../src/logger.ts";
import { createApp, servicesOf, type ServerEffects } from "./app.ts";

/**
 * A listening server. `close()` stops accepting, stops the schedules, ends live event streams,
 * lets in-flight responses and running jobs finish (up to their timeouts), then resolves.
 */
export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface StartOptions {
  /** How long `close()` waits for in-flight responses before cutting them (default 10 s). */
  readonly closeTimeoutMs?: number;
  /** How long `close()` waits for running jobs before cancelling them (default 60 s). */
  readonly runDrainMs?: number;
}

/** Starts `createApp(config)` on `config.host`:`config.port` (0 picks a free port). */
export async function startServer(
  config: Config,
  effects: ServerEffects = {},
  options: StartOptions = {},
): Promise<RunningServer> {
  const logger = effects.logger ?? createLogger({ name: "lakebook-server" });
  const app = createApp(config, { ...effects, logger });
  const { fastPage } = servicesOf(app);
  const server = createServer((req, res) => {
    if (!fastPage(req, res)) app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const reason = error.code === "EADDRINUSE" ? "is already in use" : `cannot be opened (${error.code})`;
      reject(
        new ConfigError(`${config.host}:${config.port} ${reason}: set PORT or HOST to another value`, {
          cause: error,
        }),
      );
    };
    server.once("error", onError);
    server.listen(config.port, config.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url }, "server listening");

  let closing: Promise<void> | undefined;
  // While closing, a keep-alive connection whose last response just finished is idle: close it
  // at once rather than after the keep-alive timeout.
  server.on("request", (_req: IncomingMessage, res: ServerResponse) => {
    res.once("finish", () => {
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });
  const close = (): Promise<void> => {
    closing ??= Promise.all([servicesOf(app).shutdown(options.runDrainMs ?? 60_000), closeHttp()]).then(
      () => undefined,
    );
    return closing;
  };
  const closeHttp = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => server.closeAllConnections(), options.closeTimeoutMs ?? 10_000);
      timer.unref();
      server.close((error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else {
          logger.info({ url }, "server closed");
          resolve();
        }
      });
      // Keep-alive sockets with no request in progress would otherwise hold close() open.
      server.closeIdleConnections();
    });
  return { url, port, close };
}
