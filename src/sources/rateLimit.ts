/**
 * A per-host rate limit with polite concurrency: requests to one host start at least
 * `minIntervalMs` apart and at most `concurrency` run at once; different hosts do not wait for
 * each other. One limiter is meant to be shared by every source in a process.
 */
import { defaultSleep } from "./retry.ts";

export interface HostLimitOptions {
  /** Minimum time between the starts of two requests to the same host. */
  minIntervalMs?: number;
  /** Requests in flight per host. */
  concurrency?: number;
}

export interface HostLimiter {
  /** Runs `task` when the host of `url` allows it. */
  schedule<T>(url: string | URL, task: () => Promise<T>): Promise<T>;
}

interface HostState {
  active: number;
  waiting: (() => void)[];
  nextStart: number;
}

export function createHostLimiter(
  options: HostLimitOptions & { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
): HostLimiter {
  const minInterval = options.minIntervalMs ?? 250;
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const hosts = new Map<string, HostState>();

  return {
    async schedule(url, task) {
      const host = new URL(url).host;
      let state = hosts.get(host);
      if (!state) hosts.set(host, (state = { active: 0, waiting: [], nextStart: 0 }));
      const slot = state;
      if (slot.active >= concurrency) await new Promise<void>((resolve) => slot.waiting.push(resolve));
      else slot.active += 1;
      try {
        const start = Math.max(now(), slot.nextStart);
        slot.nextStart = start + minInterval;
        const wait = start - now();
        if (wait > 0) await sleep(wait);
        return await task();
      } finally {
        // Hand the slot straight to the next waiter, or free it.
        const next = slot.waiting.shift();
        if (next) next();
        else slot.active -= 1;
      }
    },
  };
}
