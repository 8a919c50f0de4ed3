/**
 * The TCP transport (with the FFh-after-ACK quirk of network models), the pty pair helper,
 * and logging hygiene (the operator password never reaches a log line).
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair } from '../../src/device/pty';
import { createShtrihRegister, type ShtrihRegister } from '../../src/device/shtrih';
import { ShtrihEmulator, serveEmulatorOverTcp, type TcpServing } from '../../src/device/shtrih/emulator';
import { LinkError } from '../../src/device/register';
import { FAST_RETRIES, FAST_TIMEOUTS, makeRig, rejection, sale } from './harness';

describe('Shtrih over TCP', () => {
  let serving: TcpServing | undefined;
  let reg: ShtrihRegister | undefined;
  afterEach(async () => {
    await reg?.close();
    await serving?.close();
  });

  it('prints with FFh after every ACK, reconnects after the socket drops', async () => {
    const emu = new ShtrihEmulator({ shiftOpen: true });
    emu.setFfAfterAck(true);
    serving = await serveEmulatorOverTcp(emu);
    reg = createShtrihRegister({ transport: { kind: 'tcp', host: '127.0.0.1', port: serving.port }, timeouts: FAST_TIMEOUTS, retries: FAST_RETRIES });
    await reg.prepare();
    const r1 = await reg.print(sale());
    emu.unplug(); // the device drops the connection
    expect(await rejection(reg.state())).toBeInstanceOf(LinkError);
    emu.replug();
    const r2 = await reg.print(sale());
    expect(emu.receipts().map((d) => d.fiscalDocumentNumber)).toEqual([r1.fiscalDocumentNumber, r2.fiscalDocumentNumber]);
    expect(reg.link.stats.reopens).toBe(1);
  });

  it('a closed TCP port is a LinkError with outcome known', async () => {
    const emu = new ShtrihEmulator();
    serving = await serveEmulatorOverTcp(emu);
    const port = serving.port;
    await serving.close();
    serving = undefined;
    reg = createShtrihRegister({ transport: { kind: 'tcp', host: '127.0.0.1', port }, timeouts: FAST_TIMEOUTS, retries: FAST_RETRIES });
    const e = await rejection(reg.state());
    expect(e).toBeInstanceOf(LinkError);
    expect((e as LinkError).outcomeUnknown).toBe(false);
  });
});

describe('openPtyPair', () => {
  it('creates both links and removes them on close', async () => {
    const pair = await openPtyPair();
    expect(fs.realpathSync(pair.devicePath)).toMatch(/^\/dev\/pts\//);
    expect(fs.realpathSync(pair.hostPath)).toMatch(/^\/dev\/pts\//);
    await pair.close();
    expect(fs.existsSync(pair.dir)).toBe(false);
  });
});

describe('logging', () => {
  it('logs commands and faults without the password or frame payloads', async () => {
    const lines: string[] = [];
    const rec = (level: string) => (obj: object, msg?: string) => lines.push(JSON.stringify({ level, ...obj, msg }));
    const logger = { debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
    const rig = await makeRig('memory', {}, { logger });
    try {
      rig.emu.ageShift(25 * 3600_000);
      rig.emu.corruptNextAnswers(1);
      await rig.reg.prepare();
      await rig.reg.print(sale());
    } finally {
      await rig.close();
    }
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10);
    expect(text).toMatch(/FF45h close receipt/);
    expect(text).toMatch(/Z report/);
    expect(text).not.toMatch(/password|pwd/i);
    expect(text).not.toMatch(/1e 00 00 00|1e000000/i);
  });
});

describe('emulator idle accounting (what bench/receipts measures)', () => {
  it('counts the wait in progress, split by the command whose answer came before it', async () => {
    const rig = await makeRig('memory');
    try {
      await rig.reg.state();
      const a = rig.emu.stats();
      await new Promise((r) => setTimeout(r, 40));
      const b = rig.emu.stats();
      // Nothing was sent between the snapshots: the whole gap is the register waiting for the host.
      expect(b.idleMs - a.idleMs).toBeGreaterThanOrEqual(35);
      const last = Object.keys(b.idleAfter).find((k) => b.idleAfter[k]! - (a.idleAfter[k] ?? 0) >= 35);
      expect(last).toBeDefined();
      expect(Object.values(b.idleAfter).reduce((x, y) => x + y, 0)).toBeCloseTo(b.idleMs, 6);
      // The next byte from the host ends the wait; later snapshots do not grow without a new gap.
      await rig.reg.state();
      const c = rig.emu.stats();
      expect(c.idleMs - b.idleMs).toBeLessThan(30);
    } finally {
      await rig.close();
    }
  });
});
