/**
 * Runs the emulator on a serial port (typically the device end of a socat pty pair, see
 * src/device/pty.ts): bytes read from the port go to the emulator, its answers are written back.
 */
import { SerialPort } from 'serialport';
import type { ShtrihEmulator } from './emulator';

export interface SerialAttachment {
  readonly path: string;
  /** Stops serving: closes the port (the emulator keeps its state). */
  close(): Promise<void>;
}

export async function attachEmulatorToSerial(emulator: ShtrihEmulator, path: string, baudRate = 115200): Promise<SerialAttachment> {
  const port = new SerialPort({ path, baudRate, dataBits: 8, parity: 'none', stopBits: 1, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  let closed = false;
  const closePort = () =>
    new Promise<void>((resolve) => {
      if (!port.isOpen) return resolve();
      port.close(() => resolve());
    });
  const conn = emulator.connect({
    receive: (bytes) => {
      if (port.isOpen) port.write(bytes);
    },
    disconnected: () => {
      void closePort();
    },
  });
  port.on('data', (b: Buffer) => conn.send(b));
  port.on('error', () => undefined);
  port.on('close', () => conn.close());
  return {
    path,
    async close() {
      if (closed) return;
      closed = true;
      conn.close();
      await closePort();
    },
  };
}
