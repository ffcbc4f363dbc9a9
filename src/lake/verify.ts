/**
 * Integrity checks: a committed version is intact when every file its manifest names exists with
 * the recorded size and sha256. Used after crashes (tests, `lakebook lake show --verify`) to prove
 * that nothing a reader can see was damaged.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Manifest } from "./manifest.ts";
import type { Storage } from "./storage.ts";

export interface VerifyProblem {
  key: string;
  problem: string;
}

export async function verifyVersion(storage: Storage, manifest: Manifest): Promise<VerifyProblem[]> {
  const problems: VerifyProblem[] = [];
  for (const file of manifest.files) {
    const info = await storage.stat(file.key);
    if (!info) {
      problems.push({ key: file.key, problem: "missing" });
      continue;
    }
    if (info.size !== file.size) {
      problems.push({ key: file.key, problem: `size ${info.size}, manifest says ${file.size}` });
      continue;
    }
    const sha256 = await sha256OfFile(await storage.localPath(file.key));
    if (sha256 !== file.sha256)
      problems.push({ key: file.key, problem: `sha256 ${sha256} differs from the manifest` });
  }
  if (manifest.rejects.key && !(await storage.stat(manifest.rejects.key))) {
    problems.push({ key: manifest.rejects.key, problem: "rejects file missing" });
  }
  return problems;
}

/**
 * The sha256 of a file, streamed: the one place the lake hashes files (landing, data files,
 * archives, S3 cache copies, verification). Read in 4 MiB chunks: with the stream's default
 * 64 KiB, a 174 MB Parquet file took 270 ms to hash here, with 4 MiB 108 ms.
 */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}
