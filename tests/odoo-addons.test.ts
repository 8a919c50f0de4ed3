/**
 * The bundled Odoo addon (odoo-addons/odoo_companion) against the real middleware: starts the
 * server with the demo data, then runs the addon's pytest suite (static checks, the JSON-RPC
 * client, the import/sync-run buttons on an in-memory odoo stub) in a Python child process.
 *
 * Needs Debian's python with `apt-get install -y python3-pytest python3-requests`. It calls
 * /usr/bin/python3 explicitly: a pyenv python3 comes first on PATH and cannot see apt's packages.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConfiguredRegister } from '../src/device/open-register';
import { ShtrihEmulator } from '../src/device/shtrih/emulator';
import { startTestServer, type TestServer } from './helpers/server';

const PYTHON = '/usr/bin/python3';
const REPO = path.join(__dirname, '..');

interface Run {
  code: number | null;
  output: string;
}

/** Async spawn (not spawnSync): the middleware runs in this process and must keep answering. */
function runPytest(env: Record<string, string>, timeoutMs = 180_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-m', 'pytest', '-q', 'odoo-addons/tests'], {
      cwd: REPO,
      // A clean environment: no proxy variables, no user site-packages, no .pyc files in the repo.
      env: {
        PATH: '/usr/local/bin:/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        LANG: 'C.UTF-8',
        PYTHONDONTWRITEBYTECODE: '1',
        PYTHONNOUSERSITE: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pytest timed out after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('bundled Odoo addon odoo_companion', () => {
  let s: TestServer;
  let readOnlyKey: string;
  const emu = new ShtrihEmulator({ fnSerial: '9999078900000077', lastFiscalDocumentNumber: 500, shiftNumber: 3, shiftOpen: true });

  beforeAll(async () => {
    // The middleware's cash register: the Shtrih emulator in memory, so the addon's fiscal
    // receipts are really printed (and can be checked against the register's journal below).
    s = await startTestServer({
      db: 'sqlite',
      register: (config, logger) => openConfiguredRegister(config.kkt, logger, { kind: 'memory', device: emu })!,
    });
    readOnlyKey = await s.key(['read']);
  });
  afterAll(async () => {
    await s?.close();
  });

  it('passes its pytest suite against the running middleware', async () => {
    expect(fs.existsSync(PYTHON), `${PYTHON} is missing`).toBe(true);
    const run = await runPytest({
      COMPANION_URL: s.url,
      COMPANION_API_KEY: s.adminKey,
      COMPANION_READONLY_KEY: readOnlyKey,
    });
    // pytest's summary line, e.g. "61 passed in 2.10s", for the CI log
    // eslint-disable-next-line no-console
    console.log(`odoo-addons pytest: ${run.output.trim().split('\n').pop()}`);
    if (run.code !== 0) {
      // eslint-disable-next-line no-console
      console.error(
        `pytest exited with ${run.code} (needs: apt-get install -y python3-pytest python3-requests)\n${run.output}`,
      );
    }
    expect(run.code, run.output.slice(-4000)).toBe(0);
    expect(run.output).toMatch(/\d+ passed/);
    expect(run.output).not.toMatch(/\d+ (failed|skipped|errors?)/);

    // Exactly once: every receipt the addon got fiscalised on this register (the demo seed's are
    // on another FN) is in the register's journal once.
    const printed = (await s.companion.db('receipts').where({ status: 'fiscalised', fnSerial: '9999078900000077' }).select('fiscalDocumentNumber', 'totalMinor')) as Array<{ fiscalDocumentNumber: number; totalMinor: number }>;
    const journal = emu.receipts();
    expect(printed.length).toBeGreaterThanOrEqual(4);
    expect(journal).toHaveLength(printed.length);
    expect(new Set(journal.map((j) => j.fiscalDocumentNumber)).size).toBe(journal.length);
    for (const p of printed) {
      expect(journal.find((j) => j.fiscalDocumentNumber === Number(p.fiscalDocumentNumber))?.totalMinor).toBe(Number(p.totalMinor));
    }
  }, 240_000);
});
