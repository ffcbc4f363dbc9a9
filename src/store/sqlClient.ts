/**
 * The little a store backend must provide: parameterized queries (`$1`, `$2`, ... bound by the
 * driver, never concatenated) and transactions. Both PostgreSQL and PGlite speak the same SQL.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /**
   * LISTENs on `channel` until the returned function is called or the client closes. Resolves
   * once the first attempt to listen is over; when it failed, `onState("down")` was called first.
   */
  listen(channel: string, listener: ChannelListener): Promise<() => Promise<void>>;
  /** Closes the connections, listeners included. */
  close(): Promise<void>;
}

/** What a LISTEN hears: each NOTIFY payload, and the state of the connection carrying them. */
export interface ChannelListener {
  onPayload(payload: string): void;
  /**
   * `down`: the connection is lost and payloads notified meanwhile are missed (it reconnects);
   * `up`: listening again.
   */
  onState?(state: "up" | "down", error?: Error): void;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Quotes an identifier (a schema name) for SQL text. Only plain lowercase names are accepted, so
 * the quoting can never be escaped; user input is never an identifier anyway.
 */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(`invalid SQL identifier '${name}': use lowercase letters, digits and _`);
  }
  return `"${name}"`;
}
