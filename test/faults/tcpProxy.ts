/**
 * A loopback TCP proxy for outage tests: forwards connections to a target (PostgreSQL), counts
 * the bytes sent back, and can cut every connection at once, or once a connection has carried
 * a given number of bytes ("dropped mid-request"), as a failed network or a failover would.
 * Listens on port 0. (Another branch adds a general test/helpers/tcpProxy.ts; the lead merges.)
 */
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Cut every open connection (both sides reset). */
  dropAll(): void;
  /** Cut each connection once the target has sent it more than `bytes`; undefined: never. */
  dropAfter(bytes: number | undefined): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let limit: number | undefined;
  const server: Server = createServer((client) => {
    accepted++;
    const upstream = connect(target.port, target.host);
    let received = 0;
    const cut = () => {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    upstream.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (limit !== undefined && received > limit) return cut();
      client.write(chunk);
    });
    client.on("data", (chunk: Buffer) => upstream.write(chunk));
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("error", () => cut());
      socket.on("close", () => {
        open.delete(socket);
        cut();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => accepted,
    dropAll: () => {
      for (const socket of open) socket.resetAndDestroy();
    },
    dropAfter: (bytes) => {
      limit = bytes;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.resetAndDestroy();
        server.close(() => resolve());
      }),
  };
}
