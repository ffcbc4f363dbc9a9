/**
 * What an API route is: method, path, the capability needed, zod schemas for path parameters,
 * query and body, and a handler; plus the helpers the route files share.
 */
import type { Request, Response } from "express";
import type { z } from "zod";
import type { Config } from "../../src/config.ts";
import { ConfigError, HttpError } from "../../src/errors.ts";
import { checkProjectJob } from "../../src/project/index.ts";
import type { Store } from "../../src/store/index.ts";
import type { AccessControl, Capability, Principal } from "../auth/accessControl.ts";
import type { Runner } from "../runs/runner.ts";
import type { Scheduler } from "../runs/scheduler.ts";

export interface ApiContext {
  readonly config: Config;
  readonly access: AccessControl;
  readonly store: Store | undefined;
  readonly runner: Runner | undefined;
  readonly scheduler: Scheduler | undefined;
}

export interface HandlerInput {
  readonly req: Request;
  readonly res: Response;
  readonly principal: Principal;
  readonly params: Record<string, unknown>;
  readonly query: Record<string, unknown>;
  readonly body: unknown;
}

export interface ApiRoute {
  readonly method: "get" | "post" | "patch" | "delete";
  /** Express syntax: `/runs/:id` (under /api). */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** undefined: anyone (the session and the spec). */
  readonly capability?: Capability;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Success status (default 200). */
  readonly status?: number;
  /** Content type of the success response (default application/json). */
  readonly produces?: string;
  /** Returns the JSON body; undefined when the handler wrote the response itself. */
  readonly handler: (ctx: ApiContext, input: HandlerInput) => Promise<unknown>;
}

export function needStore(ctx: ApiContext): Store {
  if (!ctx.store)
    throw new HttpError(503, "this server runs without a record store: start it with `lakebook serve`");
  return ctx.store;
}

/** Refuses (400) a job whose selection names nothing in the project, before it is queued or scheduled. */
export async function checkProjectSelection(ctx: ApiContext, job: string): Promise<void> {
  await checkProjectJob(ctx.config.root, job).catch((error: unknown) => {
    if (error instanceof ConfigError) throw new HttpError(400, error.message, { cause: error });
    throw error;
  });
}

export function needRunner(ctx: ApiContext): Runner {
  if (!ctx.runner)
    throw new HttpError(503, "this server runs without a record store: start it with `lakebook serve`");
  return ctx.runner;
}

export function notFound(what: string): HttpError {
  return new HttpError(404, `${what} not found`);
}
