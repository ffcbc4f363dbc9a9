/**
 * Opens the store the configuration names: PostgreSQL when `databaseUrl` is set, else the
 * embedded PGlite under `<root>/data/store`. Migrations run before the store is returned.
 */
import { join } from "node:path";
import type { Config } from "../config.ts";
import { migrate } from "./migrations.ts";
import { createPgClient } from "./pgClient.ts";
import { createPgliteClient } from "./pgliteClient.ts";
import { createSqlStore } from "./sqlStore.ts";
import type { Store } from "./store.ts";

export const EMBEDDED_STORE_DIR = "data/store";

export type StoreOptions =
  | {
      readonly kind: "postgres";
      readonly url: string;
      readonly schema?: string;
      readonly max?: number;
      readonly connectTimeoutMs?: number;
      readonly queryTimeoutMs?: number;
    }
  /** `dataDir` undefined: in memory (tests). */
  | { readonly kind: "pglite"; readonly dataDir?: string };

export async function createStore(options: StoreOptions): Promise<Store> {
  const client =
    options.kind === "postgres" ? await createPgClient(options) : await createPgliteClient(options);
  try {
    await migrate(client);
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return createSqlStore(client, options.kind);
}

/** The store for `config`: `DATABASE_URL` or the embedded one. */
export function openStore(config: Config): Promise<Store> {
  return createStore(
    config.databaseUrl
      ? { kind: "postgres", url: config.databaseUrl }
      : { kind: "pglite", dataDir: join(config.root, EMBEDDED_STORE_DIR) },
  );
}
