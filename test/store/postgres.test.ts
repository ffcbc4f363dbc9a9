import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll } from "vitest";
import { createStore, quoteIdentifier, type Store } from "../../src/store/index.ts";
import { testStore } from "./storeContract.ts";

export const TEST_DATABASE_URL =
  process.env.LAKEBOOK_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `lakebook_test_${randomBytes(4).toString("hex")}`;
const opened: Store[] = [];

afterAll(async () => {
  await Promise.all(opened.map((store) => store.close()));
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  await client.end();
});

testStore("postgres", async () => {
  // Two stores (two pools) on one schema stand in for two server processes; both run migrations.
  const [store, second] = await Promise.all([
    createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema }),
    createStore({ kind: "postgres", url: TEST_DATABASE_URL, schema }),
  ]);
  opened.push(store, second);
  return { store, second };
});
