/**
 * A real S3-compatible server (s3rver) on loopback for the S3 backend's tests: path-style
 * addressing, SigV4 checked, objects in a temporary folder.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { S3StorageConfig } from "../../src/config.ts";

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

export interface S3Server {
  /** Storage settings for a fresh prefix in the server's bucket. */
  config(prefix?: string): S3StorageConfig;
  readonly endpoint: string;
  close(): Promise<void>;
}

export const S3_BUCKET = "lake";

export async function startS3Server(): Promise<S3Server> {
  const S3rver = createRequire(import.meta.url)("@20minutes/s3rver") as S3rverClass;
  const directory = await mkdtemp(join(tmpdir(), "lakebook-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: S3_BUCKET }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  let next = 0;
  return {
    endpoint,
    config: (prefix = `t${process.pid}-${next++}/`) => ({
      kind: "s3",
      endpoint,
      bucket: S3_BUCKET,
      prefix,
      region: "us-east-1",
      accessKey: "S3RVER",
      secretKey: "S3RVER",
    }),
    async close() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
