/**
 * The `lakebook` command as a user runs it, in child processes: `runLakebookOffline` inside an
 * empty network namespace (`unshare --net`, loopback only; as root, with util-linux and
 * iproute2), so a passing build proves it needs no network; `startLakebookServe` runs
 * `lakebook serve` on a free port until `stop()`.
 */
import { execFile, spawn } from "node:child_process";
import { REPO_ROOT, type CliRun } from "./cli.ts";

/** Runs `lakebook <args>` with no network; resolves with its exit code and output. */
export function runLakebookOffline(args: readonly string[], timeoutMs = 600_000): Promise<CliRun> {
  const quoted = args.map((arg) => `'${arg.replaceAll("'", `'\\''`)}'`).join(" ");
  const script = `ip link set lo up && exec "${process.execPath}" bin/lakebook.js ${quoted}`;
  return new Promise((resolve) => {
    execFile(
      "unshare",
      ["--net", "sh", "-c", script],
      { cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

export interface ServeChild {
  readonly origin: string;
  /** Everything the server printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `lakebook serve <args> --port 0` and waits for the address it prints. */
export function startLakebookServe(args: readonly string[]): Promise<ServeChild> {
  const child = spawn(process.execPath, ["bin/lakebook.js", "serve", ...args, "--port", "0"], {
    cwd: REPO_ROOT,
    env: { ...process.env, LAKEBOOK_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lakebook serve did not start:\n${output}`)), 300_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve({
        origin: match[1],
        output: () => output,
        stop: async () => {
          child.kill("SIGTERM");
          await exited;
        },
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`lakebook serve exited with ${code}:\n${output}`));
    });
  });
}
