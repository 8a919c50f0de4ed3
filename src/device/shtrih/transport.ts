/**
 * Byte transports under the link layer: serial port (serialport, 8N1), TCP (node:net) and an
 * in-memory pipe to an emulator in the same process. A transport only moves bytes; framing,
 * FFh skipping and resync live in link.ts.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { SerialPort } from 'serialport';

/**
 * Events: 'data' (Buffer), 'close' (Error | undefined: the port went away or was closed),
 * 'error' (Error). After 'close' the transport is dead; the link makes a new one.
 */
export interface ByteTransport extends EventEmitter {
  readonly description: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  write(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** The device side of an in-memory connection (implemented by the emulator). */
export interface MemoryDevice {
  /** Throws when the device is "unplugged". */
  connect(peer: MemoryPeer): MemoryConnection;
}
export interface MemoryPeer {
  /** Bytes from the device to the host. */
  receive(bytes: Buffer): void;
  /** The device went away (unplug). */
  disconnected(): void;
}
export interface MemoryConnection {
  /** Bytes from the host to the device. */
  send(bytes: Buffer): void;
  close(): void;
}

export type TransportSpec =
  | { kind: 'serial'; path: string; baudRate?: number }
  | { kind: 'tcp'; host: string; port: number; connectTimeoutMs?: number }
  | { kind: 'memory'; device: MemoryDevice }
  | { kind: 'custom'; create: () => ByteTransport; description?: string };

export function describeTransport(spec: TransportSpec): string {
  switch (spec.kind) {
    case 'serial':
      return `serial ${spec.path}@${spec.baudRate ?? 115200}`;
    case 'tcp':
      return `tcp ${spec.host}:${spec.port}`;
    case 'memory':
      return 'memory';
    case 'custom':
      return spec.description ?? 'custom';
  }
}

export function createTransport(spec: TransportSpec): ByteTransport {
  switch (spec.kind) {
    case 'serial':
      return new SerialTransport(spec.path, spec.baudRate ?? 115200);
    case 'tcp':
      return new TcpTransport(spec.host, spec.port, spec.connectTimeoutMs ?? 5000);
    case 'memory':
      return new MemoryTransport(spec.device);
    case 'custom':
      return spec.create();
  }
}

abstract class BaseTransport extends EventEmitter implements ByteTransport {
  abstract readonly description: string;
  protected opened = false;
  protected dead = false;
  get isOpen(): boolean {
    return this.opened && !this.dead;
  }
  abstract open(): Promise<void>;
  abstract write(bytes: Buffer): Promise<void>;
  abstract close(): Promise<void>;
  protected gone(err?: Error): void {
    if (this.dead) return;
    this.dead = true;
    this.opened = false;
    this.emit('close', err);
  }
}

export class SerialTransport extends BaseTransport {
  readonly description: string;
  private port: SerialPort | null = null;
  constructor(
    readonly path: string,
    readonly baudRate: number,
    readonly writeTimeoutMs = 2000,
  ) {
    super();
    this.description = `serial ${path}@${baudRate}`;
  }
  async open(): Promise<void> {
    if (this.isOpen) return;
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    this.port = port;
    this.dead = false;
    this.opened = true;
    port.on('data', (b: Buffer) => this.emit('data', b));
    port.on('error', (err: Error) => this.emit('error', err));
    port.on('close', (err?: Error | null) => this.gone(err ?? undefined));
  }
  write(bytes: Buffer): Promise<void> {
    const port = this.port;
    if (!port || !this.isOpen) return Promise.reject(new Error(`${this.description} is not open`));
    // A write to a port that is going away may never call back: race it with 'close' and a timeout.
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onClose = () => finish(new Error(`${this.description} closed during write`));
      const timer = setTimeout(() => finish(new Error(`${this.description}: write timed out`)), this.writeTimeoutMs);
      this.once('close', onClose);
      port.write(bytes, (err) => {
        if (err) return finish(err);
        // A frame is drained before the answer timeout starts: at 4800 baud 200 bytes take
        // 0.4 s on the wire. A single control byte (ENQ, ACK, NAK) takes at most 2 ms, well
        // inside any timeout, and skipping tcdrain for it saves a thread-pool round trip on
        // every exchange.
        if (bytes.length === 1) return finish();
        port.drain((e) => finish(e));
      });
    });
  }
  async close(): Promise<void> {
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
    this.gone();
  }
}

export class TcpTransport extends BaseTransport {
  readonly description: string;
  private socket: net.Socket | null = null;
  override get isOpen(): boolean {
    return super.isOpen && !!this.socket && !this.socket.destroyed;
  }
  constructor(
    readonly host: string,
    readonly port: number,
    readonly connectTimeoutMs: number,
  ) {
    super();
    this.description = `tcp ${host}:${port}`;
  }
  async open(): Promise<void> {
    if (this.isOpen) return;
    const socket = net.createConnection({ host: this.host, port: this.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`${this.description}: connect timeout`));
      }, this.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    socket.setNoDelay(true);
    this.socket = socket;
    this.dead = false;
    this.opened = true;
    socket.on('data', (b: Buffer) => this.emit('data', b));
    socket.on('error', (err) => this.emit('error', err));
    socket.on('close', () => this.gone(new Error(`${this.description}: connection closed`)));
  }
  write(bytes: Buffer): Promise<void> {
    const s = this.socket;
    if (!s || !this.isOpen) return Promise.reject(new Error(`${this.description} is not open`));
    return new Promise((resolve, reject) => s.write(bytes, (err) => (err ? reject(err) : resolve())));
  }
  async close(): Promise<void> {
    const s = this.socket;
    this.socket = null;
    if (s && !s.destroyed) {
      await new Promise<void>((resolve) => {
        s.once('close', () => resolve());
        s.destroy();
      });
    }
    this.gone();
  }
}

/** A pipe to an in-process device (the emulator); bytes cross on the next macrotask, like a wire. */
export class MemoryTransport extends BaseTransport {
  readonly description = 'memory';
  private conn: MemoryConnection | null = null;
  constructor(private readonly device: MemoryDevice) {
    super();
  }
  async open(): Promise<void> {
    if (this.isOpen) return;
    this.dead = false;
    this.conn = this.device.connect({
      receive: (b) => {
        const copy = Buffer.from(b);
        setImmediate(() => {
          if (this.isOpen) this.emit('data', copy);
        });
      },
      disconnected: () => {
        this.conn = null;
        this.gone(new Error('device disconnected'));
      },
    });
    this.opened = true;
  }
  async write(bytes: Buffer): Promise<void> {
    const conn = this.conn;
    if (!conn || !this.isOpen) throw new Error('memory transport is not open');
    const copy = Buffer.from(bytes);
    setImmediate(() => conn.send(copy));
  }
  async close(): Promise<void> {
    this.conn?.close();
    this.conn = null;
    this.gone();
  }
}
