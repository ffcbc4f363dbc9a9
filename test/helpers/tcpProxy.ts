/**
 * A loopback TCP proxy in front of a real server (PostgreSQL at 127.0.0.1:5432 in the tests), to
 * cut and restore the network between a store and its database without stopping the database,
 * which other tests and other people share. Modes:
 * - `pass`: bytes flow both ways (the start);
 * - `cut()`: every open connection is reset and new ones are reset as they arrive (a crashed or
 *   restarting database: clients fail at once);
 * - `blackhole()`: open connections stop carrying bytes and new ones are accepted but never
 *   answered (a dropped network or a frozen host: clients wait for their timeouts);
 * - `restore()`: back to `pass` for new connections (the cut ones stay gone, as after an outage).
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export type ProxyMode = "pass" | "cut" | "blackhole";

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port pointing at the proxy. */
  urlFor(url: string): string;
  readonly mode: ProxyMode;
  /** Connections accepted so far (each client connection counts once). */
  readonly accepted: number;
  /** Connections relayed to the target (accepted in `pass` mode): reconnections after a cut. */
  connections(): number;
  cut(): void;
  blackhole(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = "pass";
  let accepted = 0;
  let relayed = 0;
  /** Client sockets and their upstream sockets, to reset on `cut` and on `close`. */
  const open = new Set<Socket>();
  const track = (socket: Socket): void => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    socket.on("error", () => undefined);
  };
  const resetAll = (): void => {
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
  };

  const server: Server = createServer((client) => {
    accepted++;
    track(client);
    if (mode === "cut") {
      client.resetAndDestroy();
      return;
    }
    // Held open and silent: the client's bytes go nowhere until it gives up or the proxy closes.
    if (mode === "blackhole") {
      client.pause();
      return;
    }
    relayed++;
    const upstream = connect(target.port, target.host);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const stopBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", stopBoth);
    upstream.on("close", stopBoth);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };

  return {
    port,
    urlFor(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    connections: () => relayed,
    cut() {
      mode = "cut";
      resetAll();
    },
    blackhole() {
      mode = "blackhole";
      // Open connections go silent: nothing more is relayed either way.
      for (const socket of open) {
        socket.unpipe();
        socket.pause();
      }
    },
    restore() {
      // Silent connections are dropped so their clients notice and reconnect through `pass`.
      if (mode === "blackhole") resetAll();
      mode = "pass";
    },
    async close() {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
