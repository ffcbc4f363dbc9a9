/**
 * Retries with exponential backoff and full jitter: attempt n waits a random time in
 * [0, min(maxDelay, baseDelay * 2^n)], so many clients retrying at once spread out. A server's
 * Retry-After, when given, replaces the computed delay (capped by `maxRetryAfterMs`).
 */
import { SourceError } from "../errors.ts";

export interface RetryPolicy {
  /** Retries after the first attempt (0: no retry). */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** The longest Retry-After honoured; a longer one fails the run instead of stalling the build. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  retries: 3,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 60_000,
};

/** A failure worth retrying (network error, timeout, 429, 5xx), optionally with the server's delay. */
export class TransientError extends SourceError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  return Math.round(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function parseRetryAfter(
  value: string | null | undefined,
  now: Date = new Date(),
): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

export const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `task` until it succeeds, fails with a non-transient error, or runs out of retries
 * (then the last error is rethrown with the attempt count).
 */
export async function withRetry<T>(
  task: (attempt: number) => Promise<T>,
  options: {
    policy?: RetryPolicy;
    what: string;
    sleep?: (ms: number) => Promise<void>;
    random?: () => number;
    onRetry?: (info: { attempt: number; delayMs: number; error: TransientError }) => void;
  },
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await task(attempt);
    } catch (error) {
      if (!(error instanceof TransientError)) throw error;
      if (attempt >= policy.retries) {
        throw new SourceError(`${options.what} failed after ${attempt + 1} attempts: ${error.message}`, {
          cause: error,
        });
      }
      if (error.retryAfterMs !== undefined && error.retryAfterMs > policy.maxRetryAfterMs) {
        throw new SourceError(
          `${options.what}: the server asks to retry after ${Math.ceil(error.retryAfterMs / 1000)} s, longer than ` +
            `the ${policy.maxRetryAfterMs / 1000} s allowed; run again later or raise maxRetryAfterMs`,
          { cause: error },
        );
      }
      const delayMs = error.retryAfterMs ?? backoffDelay(attempt, policy, options.random);
      options.onRetry?.({ attempt, delayMs, error });
      await sleep(delayMs);
    }
  }
}
