/**
 * A connected pair of pseudo-terminals made by socat, for running the Shtrih emulator on one
 * end and the real serial driver on the other (a dev/test tool; needs /usr/bin/socat).
 *
 *   socat -d -d pty,raw,echo=0,link=<dir>/dev pty,raw,echo=0,link=<dir>/host
 *
 * The emulator opens `devicePath`, the driver opens `hostPath`. `close()` stops socat, which
 * hangs both terminals up — the way a USB cable pull looks to the driver.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PtyPair {
  /** Device end (the emulator opens this one). */
  devicePath: string;
  /** Host end (the driver opens this one). */
  hostPath: string;
  /** Directory holding the two links. */
  dir: string;
  /** Stops socat and waits for it to exit; removes the directory if openPtyPair made it. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** Where to put the links; a fresh temporary directory by default. Reusing the directory
   *  of a closed pair gives the "replugged" device the same path. */
  dir?: string;
  /** socat binary. */
  socatPath?: string;
  /** How long to wait for both links to appear. */
  timeoutMs?: number;
}

export async function openPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const ownDir = !options.dir;
  const dir = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'kkt-pty-'));
  fs.mkdirSync(dir, { recursive: true });
  const devicePath = path.join(dir, 'dev');
  const hostPath = path.join(dir, 'host');
  for (const p of [devicePath, hostPath]) fs.rmSync(p, { force: true });
  const child: ChildProcess = spawn(
    options.socatPath ?? '/usr/bin/socat',
    ['-d', '-d', `pty,raw,echo=0,link=${devicePath}`, `pty,raw,echo=0,link=${hostPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4000) stderr += b.toString();
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });

  const deadline = Date.now() + (options.timeoutMs ?? 5000);
  while (!(fs.existsSync(devicePath) && fs.existsSync(hostPath))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill('SIGTERM');
      await exitPromise;
      throw new Error(`socat did not create the pty pair in ${dir}: ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }

  let closed: Promise<void> | null = null;
  return {
    devicePath,
    hostPath,
    dir,
    close() {
      closed ??= (async () => {
        if (!exited) child.kill('SIGTERM');
        await exitPromise;
        for (const p of [devicePath, hostPath]) fs.rmSync(p, { force: true });
        if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
