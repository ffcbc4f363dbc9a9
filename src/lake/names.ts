/**
 * Names and keys. A key is a relative, '/'-separated path inside the lake; every segment is
 * checked here so that no dataset name, source name or crafted key can address anything outside
 * the lake's root, whichever backend stores it.
 */
import { StorageError } from "../errors.ts";

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// No leading dot: names like `.tmp` are reserved for backends' temporary files.
const SEGMENT_PATTERN = /^[A-Za-z0-9_=-][A-Za-z0-9_=.-]{0,127}$/;

/** Validates a dataset or source name: letters, digits, `_` and `-`, 1 to 64 characters. */
export function normalizeName(name: unknown, what = "dataset name"): string {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new StorageError(`invalid ${what} '${String(name)}': use 1 to 64 letters, digits, _ and -`, {
      code: "INVALID_NAME",
    });
  }
  return name;
}

/** Validates a storage key: relative, no empty, '.' or '..' segments, safe characters only. */
export function normalizeKey(key: unknown): string {
  if (typeof key !== "string" || key.length === 0 || key.length > 1024) {
    throw new StorageError(`invalid key '${String(key)}': expected a relative path inside the lake`, {
      code: "INVALID_KEY",
    });
  }
  const segments = key.split("/");
  for (const segment of segments) {
    if (segment === "." || segment === ".." || !SEGMENT_PATTERN.test(segment)) {
      throw new StorageError(
        `invalid key '${key}': each path segment must be letters, digits, _ = . or - and must not start with '.'`,
        { code: "INVALID_KEY" },
      );
    }
  }
  return key;
}

/** Joins segments into a key, validating the result. */
export function joinKey(...segments: string[]): string {
  return normalizeKey(segments.filter((segment) => segment !== "").join("/"));
}

/** A prefix for `list`: a key, or a key followed by '/'; the empty prefix lists everything. */
export function normalizePrefix(prefix: string): string {
  if (prefix === "") return "";
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  return normalizeKey(trimmed) + (prefix.endsWith("/") ? "/" : "");
}
