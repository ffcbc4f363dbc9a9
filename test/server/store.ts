/**
 * A real record store for server tests: PostgreSQL at 127.0.0.1:5432 (database `test`) in a schema
 * unique to this test file, dropped afterwards. PGlite passes the same contract (test/store).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createStore, quoteIdentifier, type Store } from "../../src/store/index.ts";

import { TEST_DATABASE_URL } from "../helpers/postgres.ts";

export { TEST_DATABASE_URL };

export interface TestStore {
  readonly store: Store;
  readonly schema: string;
  /** Another store on the same schema: a second server process. */
  second(): Promise<Store>;
  drop(): Promise<void>;
}

export async function openTestStore(): Promise<TestStore> {
  const schema = `lakebook_test_${randomBytes(4).toString("hex")}`;
  const opened: Store[] = [];
  const open = async () => {
    const store = await createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema, max: 4 });
    opened.push(store);
    return store;
  };
  const store = await open();
  return {
    store,
    schema,
    second: open,
    async drop() {
      await Promise.all(opened.map((s) => s.close().catch(() => undefined)));
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
      await client.end();
    },
  };
}
