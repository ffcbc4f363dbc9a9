#!/usr/bin/env node
// The published entry point: registers tsx so the TypeScript sources run without a compile step.
import { existsSync } from "node:fs";
import { register } from "tsx/esm/api";

// Settings and keys may live in a project .env (never committed); the environment wins.
if (existsSync(".env")) process.loadEnvFile(".env");
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
