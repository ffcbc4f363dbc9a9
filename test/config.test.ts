import { describe, expect, it } from "vitest";
import { configFromEnv, normalizeConfig } from "../src/config.ts";
import { ConfigError } from "../src/errors.ts";

describe("configuration", () => {
  it("defaults to the embedded lake and site under the project root", () => {
    const config = normalizeConfig({ root: "/srv/project" });
    expect(config).toMatchObject({
      lakeDir: "/srv/project/data/lake",
      siteDir: "/srv/project/data/site",
      notebooksDir: "/srv/project/notebooks",
      storage: { kind: "fs" },
      host: "127.0.0.1",
      port: 3000,
      publicMode: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("reads the environment, switching the lake to S3 when an endpoint is set", () => {
    const config = configFromEnv({
      LAKEBOOK_ROOT: "/srv/p",
      PORT: "8080",
      LAKEBOOK_S3_ENDPOINT: "http://127.0.0.1:9000",
      LAKEBOOK_S3_BUCKET: "lake",
      LAKEBOOK_S3_ACCESS_KEY: "key",
      LAKEBOOK_S3_SECRET_KEY: "secret",
    });
    expect(config.port).toBe(8080);
    expect(config.storage).toMatchObject({ kind: "s3", bucket: "lake", region: "us-east-1", prefix: "" });
  });

  it("says which setting is wrong", () => {
    expect(() => configFromEnv({ PORT: "http" })).toThrow(
      new ConfigError("PORT must be a whole number, got 'http'"),
    );
    expect(() => normalizeConfig({ port: 70000 })).toThrow(/invalid configuration at 'port'/);
    expect(() => configFromEnv({ LAKEBOOK_S3_ENDPOINT: "http://127.0.0.1:9000" })).toThrow(
      /invalid configuration at 'storage.bucket'/,
    );
  });
});
