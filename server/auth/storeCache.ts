/**
 * Answers read from the record store (sessions, the user count, access rules), kept so reading
 * pages costs no round trip and survives a store outage:
 *
 * - fresh for `ttlMs` after they were read: used without asking the store;
 * - after that the store is asked again; when it cannot answer (any error), the last answer is
 *   served "stale if error" up to `staleMs` after it was read and never past the value's own
 *   validity (a session's expiry). Past that, or with nothing read before, the error stands:
 *   an outage is never mistaken for "no session" or "no users";
 * - after a failed read the store is left alone for `retryMs` (stale answers are served at once,
 *   other reads fail at once), so an unreachable store costs one timeout, not one per request.
 *
 * One `StoreHealth` is shared by the caches of a server; it logs when the store goes away and
 * when it answers again.
 */
import type { Logger } from "../../src/logger.ts";
import { storeUnavailable } from "../../src/store/index.ts";

export interface StoreHealth {
  /** True within `retryMs` of a failed read. */
  resting(): boolean;
  failed(error: unknown): void;
  answered(): void;
}

export function createStoreHealth(options: { retryMs: number; logger?: Logger | undefined }): StoreHealth {
  let downSince: number | undefined;
  let restUntil = 0;
  return {
    resting: () => Date.now() < restUntil,
    failed(error) {
      restUntil = Date.now() + options.retryMs;
      if (downSince !== undefined) return;
      downSince = Date.now();
      options.logger?.warn(
        { err: error },
        "record store unavailable: serving cached sessions and access rules while they last",
      );
    },
    answered() {
      if (downSince === undefined) return;
      options.logger?.info({ downMs: Date.now() - downSince }, "record store answers again");
      downSince = undefined;
      restUntil = 0;
    },
  };
}

export interface StoreCache<V> {
  /** The value while fresh; undefined when the store must be asked. */
  fresh(key: string): V | undefined;
  /**
   * The fresh value, else `load()`'s (kept when not undefined), else on error the stale one.
   * `validUntil` (ms since epoch) bounds how long a value may be served at all.
   */
  get(
    key: string,
    load: () => Promise<V | undefined>,
    validUntil?: (value: V) => number,
  ): Promise<V | undefined>;
  delete(key: string): void;
  clear(): void;
}

interface Entry<V> {
  readonly value: V;
  readonly readAt: number;
  readonly validUntil: number;
}

export function createStoreCache<V>(options: {
  readonly ttlMs: number;
  readonly staleMs: number;
  readonly health: StoreHealth;
  /** Entries kept at most (all dropped beyond it). */
  readonly maxEntries?: number;
}): StoreCache<V> {
  const entries = new Map<string, Entry<V>>();
  /** The entry when it is at most `maxAgeMs` old and still valid. */
  const usable = (entry: Entry<V> | undefined, maxAgeMs: number): Entry<V> | undefined => {
    const now = Date.now();
    return entry && now - entry.readAt <= maxAgeMs && now < entry.validUntil ? entry : undefined;
  };
  return {
    fresh(key) {
      return usable(entries.get(key), options.ttlMs)?.value;
    },
    async get(key, load, validUntil) {
      const entry = entries.get(key);
      const fresh = usable(entry, options.ttlMs);
      if (fresh) return fresh.value;
      const stale = usable(entry, options.staleMs);
      if (options.health.resting()) {
        if (stale) return stale.value;
        throw storeUnavailable();
      }
      let value: V | undefined;
      try {
        value = await load();
      } catch (error) {
        options.health.failed(error);
        if (stale) return stale.value;
        throw error;
      }
      options.health.answered();
      if (value === undefined) {
        entries.delete(key);
        return undefined;
      }
      if (entries.size >= (options.maxEntries ?? 10_000)) entries.clear();
      entries.set(key, { value, readAt: Date.now(), validUntil: validUntil?.(value) ?? Infinity });
      return value;
    },
    delete: (key) => void entries.delete(key),
    clear: () => entries.clear(),
  };
}
