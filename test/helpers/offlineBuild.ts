/**
 * Runs one `buildSite` in a child process inside a fresh network namespace with only loopback up
 * (`unshare --net`, as root, util-linux and iproute2), so a passing build proves builds need no
 * network. The child (`buildInChild.ts`) prints its result or error as JSON on its last line.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { REPO_ROOT } from "./cli.ts";

const run = promisify(execFile);

export interface OfflineBuild {
  ok: boolean;
  result?: { buildId: string };
  error?: { name: string; code?: string; message: string };
}

/** Builds the project at `root`, with its lake and site in other folders when given. */
export async function buildOffline(
  root: string,
  dirs: { lakeDir?: string; siteDir?: string } = {},
): Promise<OfflineBuild> {
  const args = [root, dirs.lakeDir ?? "", dirs.siteDir ?? ""].map((arg) => `"${arg}"`).join(" ");
  const script = `ip link set lo up && exec "${process.execPath}" --import tsx test/helpers/buildInChild.ts ${args}`;
  try {
    const { stdout } = await run("unshare", ["--net", "sh", "-c", script], {
      cwd: REPO_ROOT,
      // Generous: the build also precompresses every asset, runs a loader per ticker page, and CI
      // machines are shared.
      timeout: 600_000,
    });
    return JSON.parse(stdout.trim().split("\n").pop() ?? "{}") as OfflineBuild;
  } catch (error) {
    const last = ((error as { stdout?: string }).stdout ?? "").trim().split("\n").pop();
    if (last?.startsWith("{")) return JSON.parse(last) as OfflineBuild;
    throw new Error(
      `the offline build could not run (it needs 'unshare --net' as root, with util-linux and iproute2): ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** Why a network namespace cannot be made here, or undefined when it can. */
export async function networkIsolationProblem(): Promise<string | undefined> {
  try {
    await run("unshare", ["--net", "sh", "-c", "ip link set lo up"]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
