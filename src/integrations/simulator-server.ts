/**
 * The HTTP server under every simulator: keep-alive like a real API server, requests held by a
 * timeout fault stay open until the client gives up, every connection counted, and a close()
 * that ends held sockets at once.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SimulatorServer {
  /** `http://host:port`, IPv6 hosts bracketed. */
  origin: string;
  connections(): number;
  close(): Promise<void>;
}

export async function listenSimulator(
  handler: http.RequestListener,
  opts: { host?: string; port?: number },
): Promise<SimulatorServer> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.requestTimeout = 0; // held (timeout-fault) requests stay open until the client gives up
  const sockets = new Set<Socket>();
  let connections = 0;
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    origin: `http://${host}:${addr.port}`,
    connections: () => connections,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        await closed;
      })()),
  };
}
