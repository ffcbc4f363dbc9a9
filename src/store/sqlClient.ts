/**
 * The little a store backend must provide: parameterized queries (`$1`, `$2`, ... bound by the
 * driver, never concatenated) and transactions. Both PostgreSQL and PGlite speak the same SQL.
 */
export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
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
