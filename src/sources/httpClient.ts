/**
 * HTTP GET for the html and api sources: a timeout per attempt, retries with backoff and jitter
 * on network errors, timeouts, 429 and 5xx (honouring Retry-After), and the per-host rate limit
 * around every attempt. Other statuses are returned to the caller, which knows what they mean.
 */
import { type Logger, silentLogger } from "../logger.ts";
import { type HostLimiter, createHostLimiter } from "./rateLimit.ts";
import { DEFAULT_RETRY, type RetryPolicy, TransientError, parseRetryAfter, withRetry } from "./retry.ts";
import { withSpan } from "../telemetry/index.ts";

export const USER_AGENT = "Lakebook/0.1 (data loader)";

export interface HttpOptions {
  timeoutMs?: number;
  retry?: RetryPolicy;
  limiter?: HostLimiter;
  userAgent?: string;
  sleep?: (ms: number) => Promise<void>;
  logger?: Logger;
}

export interface HttpResponse {
  url: string;
  status: number;
  headers: Headers;
  body: Buffer;
  attempts: number;
}

const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

// A limiter for callers that bring none, so even ad-hoc use stays polite.
let sharedLimiter: HostLimiter | undefined;
function defaultLimiter(): HostLimiter {
  return (sharedLimiter ??= createHostLimiter());
}

export function httpGet(
  url: string,
  headers: Record<string, string>,
  options: HttpOptions = {},
): Promise<HttpResponse> {
  // The URL's origin and path only: a query string may carry a token.
  return withSpan("source fetch", { "url.full": url.split("?")[0] ?? "" }, () =>
    fetchWithRetries(url, headers, options),
  );
}

async function fetchWithRetries(
  url: string,
  headers: Record<string, string>,
  options: HttpOptions,
): Promise<HttpResponse> {
  const limiter = options.limiter ?? defaultLimiter();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const logger = options.logger ?? silentLogger;
  let attempts = 0;
  return withRetry(
    (attempt) =>
      limiter.schedule(url, async () => {
        attempts = attempt + 1;
        let response: Response;
        let body: Buffer;
        try {
          response = await fetch(url, {
            headers: { "user-agent": options.userAgent ?? USER_AGENT, ...headers },
            redirect: "follow",
            signal: AbortSignal.timeout(timeoutMs),
          });
          body = Buffer.from(await response.arrayBuffer());
        } catch (error) {
          const name = (error as Error).name;
          const reason =
            name === "TimeoutError" || name === "AbortError"
              ? `no response within ${timeoutMs} ms`
              : `network error (${describeCause(error)})`;
          throw new TransientError(`GET ${url}: ${reason}`, { cause: error });
        }
        if (RETRYABLE_STATUS.has(response.status)) {
          throw new TransientError(`GET ${url}: HTTP ${response.status} ${response.statusText}`.trim(), {
            retryAfterMs: parseRetryAfter(response.headers.get("retry-after")),
          });
        }
        return {
          url: response.url || url,
          status: response.status,
          headers: response.headers,
          body,
          attempts,
        };
      }),
    {
      what: `GET ${url}`,
      policy: options.retry ?? DEFAULT_RETRY,
      sleep: options.sleep,
      onRetry: ({ attempt, delayMs, error }) =>
        logger.warn({ url, attempt: attempt + 1, delayMs, reason: error.message }, "retrying request"),
    },
  );
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
