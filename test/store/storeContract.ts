/**
 * The contract every `Store` backend passes (PostgreSQL and PGlite run the same tests), in the
 * style of the lake's storage contract: behaviours, asserted on what the store returns.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { RunChange, Store } from "../../src/store/index.ts";
import { eventually } from "../helpers/eventually.ts";

export function testStore(name: string, open: () => Promise<{ store: Store; second?: Store }>): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let second: Store | undefined;
    beforeAll(async () => {
      ({ store, second } = await open());
    });

    it("adds, reads, updates and removes users, refusing a duplicate name", async () => {
      const user = await store.addUser({
        name: "ann",
        role: "analyst",
        passwordHash: "h1",
        groups: ["finance"],
      });
      expect(user).toMatchObject({
        name: "ann",
        role: "analyst",
        groups: ["finance"],
        totpSeed: null,
        failedLogins: 0,
      });
      await expect(store.addUser({ name: "ann", role: "viewer", passwordHash: "h2" })).rejects.toMatchObject({
        code: "CONFLICT",
      });
      expect(await store.countUsers()).toBe(1);
      const updated = await store.updateUser("ann", {
        role: "admin",
        groups: ["finance", "hr"],
        totpSeed: "seed",
      });
      expect(updated).toMatchObject({
        role: "admin",
        groups: ["finance", "hr"],
        totpSeed: "seed",
        passwordHash: "h1",
      });
      expect((await store.updateUser("ann", { totpSeed: null }))?.totpSeed).toBeNull();
      expect(await store.updateUser("nobody", { role: "viewer" })).toBeUndefined();
      expect((await store.listUsers()).map((u) => u.name)).toEqual(["ann"]);
      expect(await store.removeUser("ann")).toBe(true);
      expect(await store.removeUser("ann")).toBe(false);
      expect(await store.maybeUser("ann")).toBeUndefined();
    });

    it("treats names with SQL in them as plain values", async () => {
      const name = "x'; DROP TABLE users; --";
      await store.addUser({ name, role: "viewer", passwordHash: "h" });
      expect((await store.maybeUser(name))?.name).toBe(name);
      expect(await store.maybeUser("' OR '1'='1")).toBeUndefined();
      await store.removeUser(name);
    });

    it("locks an account after the maximum failed logins and clears on success", async () => {
      await store.addUser({ name: "lock", role: "viewer", passwordHash: "h" });
      const now = new Date("2026-01-01T00:00:00Z");
      for (let i = 0; i < 2; i++)
        await store.recordLoginFailure("lock", { now, maxFailures: 3, lockMs: 60_000 });
      expect((await store.maybeUser("lock"))?.lockedUntil).toBeNull();
      await store.recordLoginFailure("lock", { now, maxFailures: 3, lockMs: 60_000 });
      const locked = await store.maybeUser("lock");
      expect(locked?.failedLogins).toBe(3);
      expect(locked?.lockedUntil?.toISOString()).toBe("2026-01-01T00:01:00.000Z");
      const later = new Date("2026-01-01T00:02:00Z");
      await store.recordLoginFailure("lock", { now: later, maxFailures: 3, lockMs: 60_000 });
      expect(await store.maybeUser("lock")).toMatchObject({ failedLogins: 1, lockedUntil: null });
      await store.clearLoginFailures("lock");
      expect(await store.maybeUser("lock")).toMatchObject({ failedLogins: 0, lockedUntil: null });
      await store.removeUser("lock");
    });

    it("accepts a TOTP time step once per user, never an older one, and one winner of a race", async () => {
      await store.addUser({ name: "otp", role: "viewer", passwordHash: "h", totpSeed: "seed" });
      await store.addUser({ name: "otp2", role: "viewer", passwordHash: "h", totpSeed: "seed" });
      expect(await store.acceptTotpStep("otp", 59_000_000)).toBe(true);
      expect(await store.acceptTotpStep("otp", 59_000_000)).toBe(false);
      expect(await store.acceptTotpStep("otp", 58_999_999)).toBe(false);
      // Another user's steps are their own.
      expect(await store.acceptTotpStep("otp2", 59_000_000)).toBe(true);
      expect(await store.acceptTotpStep("nobody", 59_000_000)).toBe(false);
      // Two servers checking the same code at once: exactly one accepts it.
      const results = await Promise.all([
        store.acceptTotpStep("otp", 59_000_001),
        (second ?? store).acceptTotpStep("otp", 59_000_001),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.acceptTotpStep("otp", 59_000_002)).toBe(true);
      await store.removeUser("otp");
      await store.removeUser("otp2");
    });

    it("finds a session with its user only before it expires, and deletes it with the user", async () => {
      await store.addUser({ name: "sam", role: "viewer", passwordHash: "h" });
      const expiresAt = new Date(Date.now() + 60_000);
      await store.createSession({ idHash: "hash1", userName: "sam", csrfToken: "csrf", expiresAt });
      const found = await store.maybeSession("hash1", new Date());
      expect(found?.session).toMatchObject({ idHash: "hash1", userName: "sam", csrfToken: "csrf" });
      expect(found?.session.expiresAt.getTime()).toBe(expiresAt.getTime());
      expect(found?.user.name).toBe("sam");
      expect(await store.maybeSession("hash1", new Date(Date.now() + 120_000))).toBeUndefined();
      expect(await store.maybeSession("other", new Date())).toBeUndefined();
      expect(await store.deleteExpiredSessions(new Date(Date.now() + 120_000))).toBe(1);
      await store.createSession({ idHash: "hash2", userName: "sam", csrfToken: "c", expiresAt });
      await store.removeUser("sam");
      expect(await store.maybeSession("hash2", new Date())).toBeUndefined();
    });

    it("keeps audit events newest first", async () => {
      await store.audit({
        action: "login.failed",
        actor: "eve",
        ip: "127.0.0.1",
        detail: { reason: "password" },
      });
      await store.audit({ action: "user.add", actor: "cli", target: "bob" });
      const [latest, earlier] = await store.listAudit({ limit: 2 });
      expect(latest).toMatchObject({ action: "user.add", target: "bob", detail: {} });
      expect(earlier).toMatchObject({ action: "login.failed", actor: "eve", detail: { reason: "password" } });
    });

    it("sets, replaces and removes access rules", async () => {
      await store.setAccessRule({ path: "/finance/", groups: ["finance"] });
      await store.setAccessRule({ path: "/finance/", groups: ["finance", "board"] });
      expect(await store.listAccessRules()).toEqual([{ path: "/finance/", groups: ["finance", "board"] }]);
      expect(await store.removeAccessRule("/finance/")).toBe(true);
      expect(await store.listAccessRules()).toEqual([]);
    });

    it("records builds from start to finish, newest first", async () => {
      await store.startBuild({
        id: "20260101T000000000Z-aaaaaa",
        startedAt: new Date("2026-01-01T00:00:00Z"),
      });
      await store.startBuild({
        id: "20260102T000000000Z-bbbbbb",
        startedAt: new Date("2026-01-02T00:00:00Z"),
      });
      const finished = await store.finishBuild("20260101T000000000Z-aaaaaa", {
        status: "succeeded",
        finishedAt: new Date("2026-01-01T00:01:00Z"),
        durationMs: 60_000,
        dataVersions: { prices: 3 },
        error: null,
      });
      expect(finished).toMatchObject({
        status: "succeeded",
        durationMs: 60_000,
        dataVersions: { prices: 3 },
      });
      expect((await store.listBuilds()).map((b) => b.id)).toEqual([
        "20260102T000000000Z-bbbbbb",
        "20260101T000000000Z-aaaaaa",
      ]);
      expect((await store.maybeBuild("20260102T000000000Z-bbbbbb"))?.status).toBe("running");
      expect(await store.maybeBuild("nope")).toBeUndefined();
    });

    it("fails unfinished runs and builds whose lease expired, and only those", async () => {
      const live = (await store.createRun({ job: "lease-live", leaseMs: 60_000 }))!;
      const dead = (await store.createRun({ job: "lease-dead", leaseMs: 1 }))!;
      const done = (await store.createRun({ job: "lease-done", leaseMs: 1 }))!;
      await store.updateRun(done.id, { status: "succeeded", finishedAt: new Date() });
      const liveBuild = await store.startBuild({
        id: "20260301T000000000Z-live00",
        startedAt: new Date(),
        leaseMs: 60_000,
      });
      await store.startBuild({ id: "20260301T000000000Z-dead00", startedAt: new Date(), leaseMs: 1 });
      expect(liveBuild.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 30_000);
      // A renewed lease moves forward; the dead ones are not renewed.
      expect(await store.renewLease("run", live.id, 120_000)).toBe(true);
      expect((await store.maybeRun(live.id))!.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 90_000);
      await new Promise((resolve) => setTimeout(resolve, 20));

      const recovered = await store.recoverAbandoned();
      expect(recovered.runs.map((run) => run.id)).toEqual([dead.id]);
      expect(recovered.builds.map((build) => build.id)).toEqual(["20260301T000000000Z-dead00"]);
      expect(await store.maybeRun(dead.id)).toMatchObject({
        status: "failed",
        error: "abandoned: the process running it stopped",
        finishedAt: expect.any(Date),
      });
      expect(await store.maybeBuild("20260301T000000000Z-dead00")).toMatchObject({
        status: "failed",
        error: "abandoned: the process running it stopped",
        finishedAt: expect.any(Date),
      });
      expect((await store.maybeRun(live.id))?.status).toBe("queued");
      expect((await store.maybeRun(done.id))?.status).toBe("succeeded");
      expect((await store.maybeBuild("20260301T000000000Z-live00"))?.status).toBe("running");
      // A recovered or finished record's lease is not renewed: its process learns it lost it.
      expect(await store.renewLease("run", dead.id, 60_000)).toBe(false);
      expect(await store.renewLease("build", "20260301T000000000Z-dead00", 60_000)).toBe(false);
      expect(await store.renewLease("run", "r-unknown", 60_000)).toBe(false);
      expect(await store.recoverAbandoned()).toEqual({ runs: [], builds: [] });

      // Listing recovers too: nothing shown as running after its lease.
      const later = (await store.createRun({ job: "lease-listed", leaseMs: 1 }))!;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await store.listRuns({ job: "lease-listed" }))[0]).toMatchObject({
        id: later.id,
        status: "failed",
      });
      await store.startBuild({ id: "20260301T000000000Z-list00", startedAt: new Date(), leaseMs: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await store.listBuilds()).find((b) => b.id === "20260301T000000000Z-list00")?.status).toBe(
        "failed",
      );
      await store.updateRun(live.id, { status: "cancelled", finishedAt: new Date() });
    });

    it("creates runs, updates them and numbers their log lines", async () => {
      const run = (await store.createRun({
        job: "build",
        triggeredBy: "ann",
        maxAttempts: 3,
        timeoutMs: 5000,
      }))!;
      expect(run).toMatchObject({
        job: "build",
        status: "queued",
        attempt: 0,
        maxAttempts: 3,
        timeoutMs: 5000,
      });
      const started = new Date();
      const updated = await store.updateRun(run.id, {
        status: "running",
        attempt: 1,
        startedAt: started,
        progress: 0.5,
      });
      expect(updated).toMatchObject({ status: "running", attempt: 1, progress: 0.5 });
      expect(updated?.startedAt?.getTime()).toBe(started.getTime());
      await store.appendRunLog(run.id, "info", "first");
      await store.appendRunLog(run.id, "error", "second");
      const logs = await store.listRunLogs(run.id);
      expect(logs.map((l) => [l.seq, l.level, l.message])).toEqual([
        [1, "info", "first"],
        [2, "error", "second"],
      ]);
      expect((await store.listRunLogs(run.id, { afterSeq: 1 })).map((l) => l.message)).toEqual(["second"]);
      expect((await store.listRuns({ status: "running" })).map((r) => r.id)).toContain(run.id);
      expect(await store.listRuns({ status: "failed", job: "build" })).toEqual([]);
    });

    it("hands a run to one worker at a time: a fenced update fails once another worker claimed it", async () => {
      const run = (await store.createRun({ job: "build" }))!;
      expect(run.workerId).toBeNull();
      expect((await store.claimRun(run.id, "w-a"))?.workerId).toBe("w-a");
      expect((await store.updateOwnedRun(run.id, "w-a", { status: "running", attempt: 1 }))?.status).toBe(
        "running",
      );
      // w-a stopped heartbeating: w-b takes over, and w-a's late writes no longer land.
      expect((await store.claimRun(run.id, "w-b"))?.workerId).toBe("w-b");
      expect(await store.updateOwnedRun(run.id, "w-a", { status: "succeeded" })).toBeUndefined();
      expect((await store.maybeRun(run.id))?.status).toBe("running");
      await store.updateOwnedRun(run.id, "w-b", { status: "succeeded", finishedAt: new Date() });
      // A finished run is claimed by nobody: a redelivered queue message finds nothing to do.
      expect(await store.claimRun(run.id, "w-c")).toBeUndefined();
      expect((await store.maybeRun(run.id))?.workerId).toBe("w-b");
    });

    it("gives a run a worker claims a fresh lease, so its new worker is not taken for dead", async () => {
      const run = (await store.createRun({ job: "lease-claimed", leaseMs: 1 }))!;
      await new Promise((resolve) => setTimeout(resolve, 20));
      const claimed = (await store.claimRun(run.id, "w-lease"))!;
      expect(claimed.workerId).toBe("w-lease");
      expect(claimed.leaseUntil!.getTime()).toBeGreaterThan(Date.now() + 30_000);
      expect((await store.recoverAbandoned()).runs.map((r) => r.id)).not.toContain(run.id);
      expect(await store.renewLease("run", run.id, 60_000)).toBe(true);
      await store.updateOwnedRun(run.id, "w-lease", { status: "succeeded", finishedAt: new Date() });
    });

    it("records worker heartbeats and a clean stop, newest heartbeat first", async () => {
      await store.heartbeatWorker({ id: "h1:1:a", host: "h1", pid: 1, concurrency: 2, active: 0 });
      await store.heartbeatWorker({ id: "h2:2:b", host: "h2", pid: 2, concurrency: 1, active: 1 });
      await store.heartbeatWorker({ id: "h1:1:a", host: "h1", pid: 1, concurrency: 2, active: 2 });
      await store.stopWorker("h2:2:b");
      const workers = await store.listWorkers();
      const a = workers.find((w) => w.id === "h1:1:a")!;
      const b = workers.find((w) => w.id === "h2:2:b")!;
      expect(a).toMatchObject({ host: "h1", pid: 1, concurrency: 2, active: 2, stoppedAt: null });
      expect(b.stoppedAt).toBeInstanceOf(Date);
      expect(b.active).toBe(0);
      expect(a.heartbeatAt.getTime()).toBeGreaterThanOrEqual(b.heartbeatAt.getTime() - 1000);
      expect(await store.listWorkers({ since: new Date(Date.now() + 60_000) })).toEqual([]);
    });

    it("announces run changes and log lines to watchers in commit order, and nothing that did not happen", async () => {
      const heard: RunChange[] = [];
      const stop = await (second ?? store).watchRuns({ onChange: (change) => heard.push(change) });
      const run = (await store.createRun({ job: "build" }))!;
      await store.updateRun(run.id, { status: "running", attempt: 1 });
      await store.appendRunLog(run.id, "info", "one");
      await store.appendRunLog(run.id, "info", "two");
      expect(await store.updateRun("r-missing", { status: "failed" })).toBeUndefined();
      await store.updateRun(run.id, { status: "succeeded", finishedAt: new Date() });
      const ofRun = () => heard.filter((change) => change.runId === run.id);
      await eventually(() => ofRun().length >= 5, "five announcements");
      expect(ofRun()).toEqual([
        { runId: run.id, kind: "run", seq: null },
        { runId: run.id, kind: "run", seq: null },
        { runId: run.id, kind: "log", seq: 1 },
        { runId: run.id, kind: "log", seq: 2 },
        { runId: run.id, kind: "run", seq: null },
      ]);
      expect(heard.filter((change) => change.runId !== run.id)).toEqual([]);
      await stop();
      await store.appendRunLog(run.id, "info", "after the watcher stopped");
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ofRun()).toHaveLength(5);
    });

    it("creates one run per schedule tick, even when two stores race for it", async () => {
      const schedule = await store.addSchedule({
        name: "nightly",
        job: "build",
        cron: "0 3 * * *",
        retries: 2,
      });
      expect(schedule).toMatchObject({ enabled: true, retries: 2, alertUrl: null });
      await expect(
        store.addSchedule({ name: "nightly", job: "build", cron: "* * * * *" }),
      ).rejects.toMatchObject({
        code: "CONFLICT",
      });
      const tick = "2026-01-01T03:00:00.000Z";
      const other = second ?? store;
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          (i % 2 ? other : store).createRun({ job: "build", scheduleId: schedule.id, tick }),
        ),
      );
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      expect(
        await store.createRun({ job: "build", scheduleId: schedule.id, tick: "2026-01-02T03:00:00.000Z" }),
      ).toBeDefined();
      const disabled = await store.updateSchedule(schedule.id, {
        enabled: false,
        alertUrl: "http://127.0.0.1:1/hook",
      });
      expect(disabled).toMatchObject({
        enabled: false,
        alertUrl: "http://127.0.0.1:1/hook",
        cron: "0 3 * * *",
      });
      expect(await store.removeSchedule(schedule.id)).toBe(true);
      expect(await store.maybeSchedule(schedule.id)).toBeUndefined();
    });
  });
}
