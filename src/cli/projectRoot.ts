/**
 * `--root <dir>` for build, preview and serve: the project root is resolved here once (the flag,
 * else LAKEBOOK_ROOT, else the working directory) and everything downstream receives it in the
 * Config (`config.root`) together with what kind of project it is (src/site/project.ts).
 */
import { resolve } from "node:path";
import { configFromEnv, type Config } from "../config.ts";
import { detectProject, type Project } from "../site/index.ts";

export interface ProjectOptions {
  root?: string;
  port?: number;
  host?: string;
}

export interface ProjectContext {
  readonly config: Config;
  readonly project: Project;
}

/** The Config for the project root the options name, and the kind of project found there. */
export function projectFromOptions(options: ProjectOptions): ProjectContext {
  const config = configFromEnv(process.env, {
    ...(options.root !== undefined && { root: resolve(options.root) }),
    ...(options.port !== undefined && { port: options.port }),
    ...(options.host !== undefined && { host: options.host }),
  });
  return { config, project: detectProject(config.root) };
}
