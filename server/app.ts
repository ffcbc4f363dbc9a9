/**
 * The Express app behind `lakebook serve`, built without listening so tests and the e2e setup
 * can mount it on any port. Order: request id and log line first (so every response, even an
 * error, is traced), security headers, then the lake endpoint, then the site as the catch-all,
 * then the error handler.
 */
import express, { type Express } from "express";
import type { Config } from "../src/config.ts";
import { createLogger, type Logger } from "../src/logger.ts";
import { allowMethods } from "./middlewares/allowMethods.ts";
import { errorHandler } from "./middlewares/errorHandler.ts";
import { lakeFiles } from "./middlewares/lakeFiles.ts";
import { requestId } from "./middlewares/requestId.ts";
import { requestLogger } from "./middlewares/requestLogger.ts";
import { securityHeaders } from "./middlewares/securityHeaders.ts";
import { siteFiles } from "./middlewares/siteFiles.ts";

/** Side effects of the server, swappable in tests (`{ logger: silentLogger }`). */
export interface ServerEffects {
  readonly logger?: Logger;
}

const STATIC_METHODS = ["GET", "HEAD"] as const;

export function createApp(config: Config, effects: ServerEffects = {}): Express {
  const logger = effects.logger ?? createLogger({ name: "lakebook-server" });
  const app = express();
  app.disable("x-powered-by");
  // Bodies built by res.send (errors, redirects) get no ETag; files carry their own.
  app.set("etag", false);

  app.use(requestId());
  app.use(requestLogger(logger));
  app.use(securityHeaders());
  app.use("/lake", allowMethods(STATIC_METHODS), lakeFiles(config));
  app.use(allowMethods(STATIC_METHODS), siteFiles(config, logger));
  app.use(errorHandler(logger));
  return app;
}
