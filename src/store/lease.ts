/**
 * The heartbeat of a run or build: while its process works on it, the record's lease is renewed
 * every quarter of the lease, so it only expires (and `recoverAbandoned` marks it failed) when
 * the process stopped: killed, crashed, or its machine gone. A renewal that fails (store briefly
 * unreachable) is retried at the next beat; the lease leaves room for three misses.
 */
import { DEFAULT_LEASE_MS, type Store } from "./store.ts";

/** Renews the lease of `id` until the returned function is called. */
export function keepLeased(
  store: Store,
  kind: "run" | "build",
  id: string,
  leaseMs: number = DEFAULT_LEASE_MS,
  onError?: (error: unknown) => void,
): () => void {
  const timer = setInterval(
    () => {
      store.renewLease(kind, id, leaseMs).catch((error: unknown) => onError?.(error));
    },
    Math.max(1, Math.floor(leaseMs / 4)),
  );
  // A heartbeat never keeps a process alive that has nothing else to do.
  timer.unref();
  return () => clearInterval(timer);
}
