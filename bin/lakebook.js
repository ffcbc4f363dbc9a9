#!/usr/bin/env node
// The published entry point: registers tsx so the TypeScript sources run without a compile step.
import { existsSync } from "node:fs";
import { register } from "tsx/esm/api";

// Settings and keys may live in a project .env (never committed); the environment wins.
if (existsSync(".env")) process.loadEnvFile(".env");
register();
// `lakebook publish list | head`: when the reader of the output goes away, stop quietly, as
// Unix tools do, instead of crashing on the next write with an unhandled EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
