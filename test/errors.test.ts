import { describe, expect, it } from "vitest";
import { describeError } from "../server/middlewares/errorHandler.ts";
import { ERROR_STATUS, type ErrorCode, LakebookError, StorageError } from "../src/errors.ts";

describe("error codes", () => {
  it("answer the HTTP status beside them in the one table, never a blanket 500", () => {
    for (const [code, status] of Object.entries(ERROR_STATUS)) {
      expect(describeError(new LakebookError(code as ErrorCode, "x")).status).toBe(status);
    }
    // Lake errors that used to answer 500.
    expect(describeError(new StorageError("v3 is archived", { code: "ARCHIVED" }))).toEqual({
      status: 410,
      code: "ARCHIVED",
      message: "v3 is archived",
    });
    expect(describeError(new StorageError("exists", { code: "EXISTS" })).status).toBe(409);
    expect(describeError(new StorageError("locked", { code: "LOCKED" })).status).toBe(503);
    expect(describeError(new LakebookError("CONFIG", "secret path")).message).toBe("internal server error");
  });
});
