/**
 * LISTEN for the PostgreSQL backend, on one dedicated connection outside the pool (a pooled
 * connection goes back to other queries and its LISTEN with it).
 *
 * - When the connection is lost (the server restarted, an admin terminated it, the network
 *   dropped) the listener is told `down`, reconnects with backoff (`retryMs`, doubled up to 10 s)
 *   and is told `up` once it listens again. Notifications sent in between are lost: PostgreSQL
 *   keeps none for a session that is not listening, so the caller catches up from the tables.
 * - A connection that died without a word (a half-open TCP connection) is found by TCP
 *   keep-alive and by a `SELECT 1` every `heartbeatMs` that must answer within 10 s.
 * - Closing never waits on the network for long: a connection that does not end within 2 s is
 *   dropped, and an attempt still connecting is abandoned.
 */
import type { Client } from "pg";
import { quoteIdentifier, type ChannelListener } from "./sqlClient.ts";

export interface PgListenOptions {
  readonly url: string;
  readonly channel: string;
  /** Shown in `pg_stat_activity.application_name` (at most 63 bytes are kept). */
  readonly applicationName: string;
  /** First delay before reconnecting (default 500 ms). */
  readonly retryMs?: number;
  /** How often the connection is checked (default 30 s). */
  readonly heartbeatMs?: number;
}

const MAX_RETRY_MS = 10_000;
const CONNECT_TIMEOUT_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
const END_TIMEOUT_MS = 2_000;

export async function listenPg(
  options: PgListenOptions,
  listener: ChannelListener,
): Promise<() => Promise<void>> {
  const { default: pg } = await import("pg");
  const retryMs = options.retryMs ?? 500;
  const listen = `LISTEN ${quoteIdentifier(options.channel)}`;
  let closed = false;
  /** The connection that is listening; undefined while down. */
  let current: Client | undefined;
  /** A connection being opened, so closing can abandon it. */
  let opening: { client: Client; done: Promise<void> } | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = retryMs;

  const open = async (): Promise<void> => {
    const client = new pg.Client({
      connectionString: options.url,
      application_name: options.applicationName,
      keepAlive: true,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    client.on("error", (error: Error) => lost(client, error));
    client.on("end", () => lost(client, new Error("the listening connection was closed")));
    client.on("notification", (message) => {
      if (client === current && message.channel === options.channel)
        listener.onPayload(message.payload ?? "");
    });
    const done = (async () => {
      try {
        await client.connect();
        await client.query(listen);
      } catch (error) {
        await end(client);
        throw error;
      }
    })();
    opening = { client, done };
    try {
      await done;
    } finally {
      opening = undefined;
    }
    if (closed) await end(client);
    else current = client;
  };

  const lost = (client: Client, error: Error): void => {
    if (client !== current || closed) return;
    current = undefined;
    void end(client);
    listener.onState?.("down", error);
    reconnectLater();
  };

  const reconnectLater = (): void => {
    retry = setTimeout(() => {
      retry = undefined;
      open().then(
        () => {
          delay = retryMs;
          if (current) listener.onState?.("up");
        },
        () => {
          delay = Math.min(delay * 2, MAX_RETRY_MS);
          if (!closed) reconnectLater();
        },
      );
    }, delay);
    retry.unref();
  };

  const heartbeat = setInterval(() => {
    const client = current;
    if (!client) return;
    void withTimeout(client.query("SELECT 1"), HEARTBEAT_TIMEOUT_MS).catch((error: unknown) =>
      lost(client, error instanceof Error ? error : new Error(String(error))),
    );
  }, options.heartbeatMs ?? 30_000);
  heartbeat.unref();

  try {
    await open();
  } catch (error) {
    listener.onState?.("down", error instanceof Error ? error : new Error(String(error)));
    reconnectLater();
  }

  return async () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    clearTimeout(retry);
    const client = current;
    current = undefined;
    const pending = opening;
    await Promise.all([
      client && end(client),
      pending && Promise.all([end(pending.client), pending.done.catch(() => undefined)]),
    ]);
  };
}

const ending = new WeakMap<Client, Promise<void>>();

/**
 * Ends `client` once, however often it is asked (a second `client.end()` would wait for an
 * `end` event that already happened), or gives up on it after a while.
 */
function end(client: Client): Promise<void> {
  let done = ending.get(client);
  if (!done) {
    done = withTimeout(client.end(), END_TIMEOUT_MS).catch(() => undefined);
    ending.set(client, done);
  }
  return done;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
