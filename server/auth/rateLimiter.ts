/**
 * A fixed-window counter per key (the client address for logins), in memory: enough for one
 * process; each server process limits on its own, the per-account lockout in the store is shared.
 */
export interface RateLimiter {
  /** Counts one attempt; returns the seconds to wait when the key is over its limit. */
  hit(key: string, now?: number): number | undefined;
}

export function createRateLimiter(options: { limit: number; windowMs: number }): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key, now = Date.now()) {
      if (windows.size > 50_000) {
        for (const [k, w] of windows) if (now - w.start >= options.windowMs) windows.delete(k);
      }
      let window = windows.get(key);
      if (!window || now - window.start >= options.windowMs) {
        window = { start: now, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      if (window.count <= options.limit) return undefined;
      return Math.max(1, Math.ceil((window.start + options.windowMs - now) / 1000));
    },
  };
}
