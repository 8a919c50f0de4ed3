/**
 * Serves the emulator on a TCP port, like a network KKT (one client at a time; a new client
 * replaces the old one). Combine with setFfAfterAck(true) for the TCP/RNDIS FFh quirk.
 */
import net from 'node:net';
import type { ShtrihEmulator } from './emulator';

export interface TcpServing {
  readonly port: number;
  close(): Promise<void>;
}

export async function serveEmulatorOverTcp(emulator: ShtrihEmulator, options: { port?: number; host?: string } = {}): Promise<TcpServing> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let conn: ReturnType<ShtrihEmulator['connect']>;
    try {
      conn = emulator.connect({
        receive: (bytes) => {
          if (!socket.destroyed) socket.write(bytes);
        },
        disconnected: () => socket.destroy(),
      });
    } catch {
      socket.destroy();
      return;
    }
    socket.on('data', (b: Buffer) => conn.send(b));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      sockets.delete(socket);
      conn.close();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
