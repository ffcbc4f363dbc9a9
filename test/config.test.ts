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

  it("reads the commit time budget in seconds, two minutes by default", () => {
    expect(normalizeConfig({}).commitTimeoutMs).toBe(120_000);
    expect(configFromEnv({ LAKEBOOK_COMMIT_TIMEOUT: "2.5" }).commitTimeoutMs).toBe(2500);
    expect(() => configFromEnv({ LAKEBOOK_COMMIT_TIMEOUT: "soon" })).toThrow(
      new ConfigError("LAKEBOOK_COMMIT_TIMEOUT must be a number of seconds, got 'soon'"),
    );
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

  it("trusts no proxy unless LAKEBOOK_TRUST_PROXY names a hop count or the proxies' addresses", () => {
    expect(configFromEnv({}).trustProxy).toBe(false);
    expect(configFromEnv({ LAKEBOOK_TRUST_PROXY: "false" }).trustProxy).toBe(false);
    expect(configFromEnv({ LAKEBOOK_TRUST_PROXY: "0" }).trustProxy).toBe(false);
    expect(configFromEnv({ LAKEBOOK_TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(configFromEnv({ LAKEBOOK_TRUST_PROXY: "loopback" }).trustProxy).toEqual(["loopback"]);
    expect(
      configFromEnv({ LAKEBOOK_TRUST_PROXY: "10.0.0.1, 192.168.0.0/16,fd00::/8,172.16.0.0/255.240.0.0" })
        .trustProxy,
    ).toEqual(["10.0.0.1", "192.168.0.0/16", "fd00::/8", "172.16.0.0/255.240.0.0"]);
  });

  it("refuses a trust-proxy setting any client could exploit or Express could not read", () => {
    expect(() => configFromEnv({ LAKEBOOK_TRUST_PROXY: "true" })).toThrow(
      /LAKEBOOK_TRUST_PROXY=true would let any client pick its address/,
    );
    expect(() => configFromEnv({ LAKEBOOK_TRUST_PROXY: "loopback,proxy.internal" })).toThrow(
      new ConfigError(
        "LAKEBOOK_TRUST_PROXY has 'proxy.internal': use a hop count, IP addresses, CIDR ranges " +
          "(10.0.0.0/8) or loopback, linklocal, uniquelocal, separated by commas",
      ),
    );
    for (const bad of ["10.0.0.0/33", "10.0.0.0/0", "fd00::/255.0.0.0", "10.0.0.1/8/8"]) {
      expect(() => configFromEnv({ LAKEBOOK_TRUST_PROXY: bad }), bad).toThrow(ConfigError);
    }
    expect(() => normalizeConfig({ trustProxy: ["*"] })).toThrow(/invalid configuration at 'trustProxy/);
  });
});
