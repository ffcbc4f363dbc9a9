/**
 * Optimistic concurrency for zone writes: a write computes the next version from the head it
 * read; if another writer commits first, the commit fails with VersionConflictError and nothing
 * of this write is visible (its files are orphans for `lake gc`). Redoing the write on the new
 * head is safe because every write is a function of the current versions of its inputs.
 */
import { VersionConflictError } from "../errors.ts";

export async function retryOnConflict<T>(write: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof VersionConflictError) || attempt >= attempts) throw error;
      // A short random pause so that racing writers do not collide again in lockstep.
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40 * attempt));
    }
  }
}
