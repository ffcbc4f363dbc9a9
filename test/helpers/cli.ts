import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `bin/lakebook.js` in a child process from the repository root, as a user would, and
 * collects its exit code and output. `env` replaces the child's environment (default: this
 * process's); `stdin` is written and closed, so a command reading stdin never waits.
 */
export function runLakebook(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["bin/lakebook.js", ...args],
      { cwd: REPO_ROOT, env: options.env ?? process.env },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.stdin ?? "");
  });
}
