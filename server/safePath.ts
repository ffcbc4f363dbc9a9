/**
 * Maps a request path onto a file under a root folder without ever leaving it.
 *
 * Two gates, both required: the URL path is decoded exactly once and rejected when it could mean
 * anything but plain nested names (`..`, `.`, empty segments, encoded `/` or `\`, a second level
 * of percent-encoding, NUL and control characters); then the candidate file is resolved with
 * `realpath` and must still lie inside the root's own `realpath`, so a symlink planted inside the
 * root that points elsewhere (e.g. to /etc/passwd) is refused too.
 */
import { realpath, stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { HttpError } from "../src/errors.ts";

/**
 * Splits the raw request target (`req.url`, before Express or anyone normalizes it) into decoded
 * path segments. Throws `HttpError(400)` for anything that is not a plain path. A trailing slash
 * is kept as a final empty segment so callers can tell `/dir/` from `/dir`.
 */
export function normalizeRequestPath(rawUrl: string): string[] {
  const end = rawUrl.search(/[?#]/);
  const rawPath = end === -1 ? rawUrl : rawUrl.slice(0, end);
  if (!rawPath.startsWith("/")) throw badPath();
  // An encoded slash or backslash would change how the path splits after decoding.
  if (/%(2f|5c)/i.test(rawPath)) throw badPath();
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch (error) {
    throw badPath(error);
  }
  // `%` left after one decode means double encoding (`%252e` -> `%2e`): refuse rather than guess.
  // eslint-disable-next-line no-control-regex
  if (/[\\%\u0000-\u001f\u007f]/.test(decoded)) throw badPath();
  const segments = decoded.slice(1).split("/");
  for (const [index, segment] of segments.entries()) {
    const last = index === segments.length - 1;
    if (segment === "." || segment === "..") throw badPath();
    if (segment === "" && !last) throw badPath();
    // Windows and SMB drop trailing dots and spaces (`prices.` opens `prices`): refused so a
    // name can never reach a file under another spelling than the one access rules compare.
    if (/[. ]$/.test(segment)) throw badPath();
  }
  return segments;
}

/**
 * A request's one canonical path, decided once per request (middlewares/canonicalPath.ts) and
 * used by routing and by every access check: decoded exactly once, dot segments, empty segments
 * and encoded separators refused, the trailing slash kept. Paths are case-sensitive, as the
 * files behind them are; access rules compare without regard to case (`rulePath`), so a
 * spelling in another case is never less protected than the rule's own.
 */
export interface CanonicalPath {
  readonly segments: readonly string[];
  /** `/` + the decoded segments joined by `/`. */
  readonly path: string;
  /** The same path percent-encoded again, for Express routing and redirects. */
  readonly encoded: string;
}

export function canonicalPath(rawUrl: string): CanonicalPath {
  const segments = normalizeRequestPath(rawUrl);
  return {
    segments,
    path: "/" + segments.join("/"),
    encoded: "/" + segments.map(encodeURIComponent).join("/"),
  };
}

/** The form both sides of an access-rule comparison take: case folded, so `/LAKE` is `/lake`. */
export function rulePath(path: string): string {
  return path.toLowerCase();
}

function badPath(cause?: unknown): HttpError {
  return new HttpError(400, "bad request path: use plain names separated by '/'", { cause });
}

/** True when `child` is `root` itself or lies below it (both absolute, already real paths). */
export function isInside(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of `path`, or undefined when it does not exist (or is not reachable). */
export async function maybeRealpath(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch {
    return undefined;
  }
}

/**
 * Resolves `segments` (from `normalizeRequestPath`) under `realRoot` (a real path) and returns the
 * real path of an existing regular file inside the root, or undefined: missing, a directory,
 * or a symlink that escapes the root all look the same to the caller (a 404).
 */
export async function maybeFileInside(
  realRoot: string,
  segments: readonly string[],
): Promise<string | undefined> {
  if (segments.some((segment) => segment === "")) return undefined;
  const real = await maybeRealpath(join(realRoot, ...segments));
  if (real === undefined || !isInside(realRoot, real) || real === realRoot) return undefined;
  try {
    return (await stat(real)).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Like `maybeFileInside` but for a directory (used to redirect `/dir` to `/dir/`). */
export async function maybeDirectoryInside(
  realRoot: string,
  segments: readonly string[],
): Promise<string | undefined> {
  const names = segments.filter((segment) => segment !== "");
  const real = await maybeRealpath(join(realRoot, ...names));
  if (real === undefined || !isInside(realRoot, real)) return undefined;
  try {
    return (await stat(real)).isDirectory() ? real : undefined;
  } catch {
    return undefined;
  }
}
