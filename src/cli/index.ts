/**
 * The `companion` command. Every subcommand loads the validated configuration, then calls
 * the same services the transports use.
 */
import { Command, CommanderError } from 'commander';
import { createCompanion, VERSION } from '../app';
import { ConfigError, describeConfig, loadConfig, type AppConfig } from '../config';
import { createKnex, ensureSchema } from '../db/knex';
import { migrateLatest, pendingMigrations, rollbackAll } from '../db/migrate';
import { AppError, isAppError } from '../errors';
import { createEventBus } from '../events/bus';
import { JobRunner } from '../jobs/runner';
import { createLogikalClient } from '../services/logikal';
import { createIikoClients } from '../services/iiko';
import { createLogger } from '../logger';
import { writeSchemaFiles } from '../schema-files';
import * as apiKeys from '../services/api-keys';
import type { ServiceContext } from '../services/context';
import { isDemoSeeded, seedDemo } from '../../seeds';
import { withDemoIiko, type DemoIiko } from '../integrations/iiko/demo';
import { withDemoLogikal } from '../integrations/logikal/demo';
import { DEMO_FN_SERIAL, demoRegister } from '../device/demo';
import { openPtyPair } from '../device/pty';
import { attachEmulatorToSerial, serveEmulatorOverTcp, ShtrihEmulator } from '../device/shtrih/emulator';
import type { LogikalSimulator } from '../integrations/logikal/simulator';
import * as iiko from '../services/iiko';
import * as logikal from '../services/logikal';
import { getRun, watchEvents, type SyncEventView, type SyncRunView } from '../services/sync-runs';
import { renderCounters, renderEvent } from './progress';

type Out = { log(msg: string): void; error(msg: string): void };

/** Opens the database for a one-shot command; the caller must destroy it. */
async function openServices(config: AppConfig): Promise<ServiceContext> {
  const db = createKnex(config.database);
  await ensureSchema(db, config.database);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  return {
    db, events: createEventBus(), logger, jobs: new JobRunner(logger), config,
    integrations: { logikal: createLogikalClient(config.logikal, logger), iiko: createIikoClients(config.iiko, logger), kkt: null },
  };
}

async function withServices<T>(config: AppConfig, fn: (s: ServiceContext) => Promise<T>): Promise<T> {
  const s = await openServices(config);
  try {
    return await fn(s);
  } finally {
    await s.jobs.stop(s.config.shutdownTimeoutMs);
    s.integrations.logikal?.close();
    for (const c of s.integrations.iiko) c.close();
    await s.db.destroy();
  }
}

function printKey(out: Out, key: string, name: string, scopes: string[]): void {
  out.log('');
  out.log(`  API key for "${name}" (scopes: ${scopes.join(', ')}) — shown once, store it now:`);
  out.log('');
  out.log(`    ${key}`);
  out.log('');
  out.log('  Use it as:  Authorization: Bearer <key>   (GraphiQL: Headers tab; graphql-ws: connectionParams)');
  out.log('');
}

/**
 * Renders a run's events as a progress bar until it ends; prints its outcome and counters.
 * Ctrl-C (or SIGTERM) stops the job properly: remote sessions are logged out and the run is
 * marked interrupted, so a later run resumes it.
 */
async function followRun(s: ServiceContext, out: Out, run: SyncRunView, joined: boolean): Promise<SyncRunView> {
  const started = Date.now();
  out.log(`sync run ${run.id} ${run.kind}${joined ? ' (joined the running one)' : ''}: ${run.target}`);
  const stop = () => {
    out.error('stopping the sync (the run will be marked interrupted)…');
    void s.jobs.stop(s.config.shutdownTimeoutMs);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let last: SyncEventView | null = null;
  try {
    for await (const e of watchEvents(s, run.id)) {
      renderEvent(e, process.stdout, started);
      last = e;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  if (process.stdout.isTTY) process.stdout.write('\n');
  const final = await getRun(s, run.id);
  out.log(`${final.status} in ${((final.durationMs ?? 0) / 1000).toFixed(1)} s${final.error ? ` (${final.error})` : ''}`);
  out.log(renderCounters(last?.counters ?? final.counters));
  return final;
}

export function buildCli(env: Record<string, string | undefined> = process.env, out: Out = console): Command {
  const program = new Command('companion').version(VERSION).description('odoo-companion middleware');
  program.exitOverride();
  const config = () => loadConfig(env);

  program
    .command('serve')
    .description('Migrate the database and serve GraphQL, GraphiQL and JSON-RPC')
    .option('--demo', 'seed demo data on an empty database and create a first admin key')
    .action(async (o: { demo?: boolean }) => {
      let cfg = config();
      let simulator: LogikalSimulator | null = null;
      let iikoDemo: DemoIiko | null = null;
      if (o.demo) {
        ({ config: cfg, simulator } = await withDemoLogikal(cfg));
        iikoDemo = await withDemoIiko(cfg);
        cfg = iikoDemo.config;
      }
      const logger = createLogger(cfg.logLevel);
      const kktDemo = o.demo ? demoRegister(cfg, logger) : null;
      const companion = await createCompanion(cfg, {
        logger,
        ...(kktDemo ? { register: kktDemo.register } : {}),
        onStop: async () => {
          await simulator?.close();
          await iikoDemo?.close();
        },
      });
      if (simulator) companion.logger.info({ url: simulator.url }, 'demo Logikal simulator started (set LOGIKAL_URL to use a real server)');
      if (iikoDemo?.simulators.length) {
        companion.logger.info(
          { servers: iikoDemo.simulators.map((x) => ({ name: x.name, url: x.simulator.url })) },
          'demo iiko simulators started (set IIKO_SERVERS to use real servers)',
        );
      }
      if (kktDemo) companion.logger.info({ fnSerial: DEMO_FN_SERIAL }, 'demo cash register emulator started (set KKT_PORT or KKT_TCP to use a real register)');
      companion.logger.info({ config: describeConfig(cfg), version: VERSION }, 'starting');
      if (o.demo) {
        if (!(await isDemoSeeded(companion.db))) {
          const summary = await seedDemo(companion.db);
          companion.logger.info({ summary }, 'demo data seeded');
        }
        if ((await apiKeys.countApiKeys(companion.services)) === 0) {
          const { key, client } = await apiKeys.createApiKey(companion.services, { name: 'demo admin', scopes: ['admin'] });
          printKey(out, key, client.name, client.scopes);
        }
      }
      // Signals are handled from before the port opens: a supervisor may stop us at any time.
      const shutdown = (signal: string) => {
        companion.logger.info({ signal }, 'signal received');
        companion.stop().then(
          () => process.exit(0),
          (e) => {
            companion.logger.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM'));
      process.once('SIGINT', () => shutdown('SIGINT'));
      const url = await companion.listen();
      out.log(`odoo-companion ${VERSION} listening on ${url}`);
      out.log(`  GraphQL + GraphiQL: ${url}/graphql   JSON-RPC: ${url}/jsonrpc   health: ${url}/readyz`);
      if (o.demo) out.log('  No key at hand? Create one: npx companion apikey create --name me --scopes admin');
    });

  program
    .command('migrate')
    .description('Apply pending migrations (or roll all back with --rollback-all)')
    .option('--rollback-all', 'undo every migration (drops all data)')
    .option('--status', 'only list pending migrations')
    .action(async (o: { rollbackAll?: boolean; status?: boolean }) => {
      await withServices(config(), async ({ db }) => {
        if (o.status) {
          const pending = await pendingMigrations(db);
          out.log(pending.length ? `pending: ${pending.join(', ')}` : 'up to date');
        } else if (o.rollbackAll) {
          await rollbackAll(db);
          out.log('all migrations rolled back');
        } else {
          const applied = await migrateLatest(db);
          out.log(applied.length ? `applied: ${applied.join(', ')}` : 'already up to date');
        }
      });
    });

  program
    .command('seed')
    .description('Load the demo data set into an empty database')
    .action(async () => {
      await withServices(config(), async ({ db }) => {
        await migrateLatest(db);
        if (await isDemoSeeded(db)) {
          out.log('demo data already present; nothing to do');
          return;
        }
        out.log(`seeded: ${JSON.stringify(await seedDemo(db))}`);
      });
    });

  const sync = program.command('sync').description('Run a sync and follow its progress');
  sync
    .command('logikal')
    .description('Force sync of one Logikal project, with a live progress bar')
    .requiredOption('--directory <path>', 'Logikal directory path, e.g. "Demo Odoo"')
    .requiredOption('--project <nameOrGuid>', 'project name (unique in the directory) or GUID')
    .option('--full', 're-download unchanged parts lists too')
    .option('--demo', 'use the built-in Logikal simulator when LOGIKAL_URL is not set')
    .action(async (o: { directory: string; project: string; full?: boolean; demo?: boolean }) => {
      let cfg = config();
      let simulator: LogikalSimulator | null = null;
      if (o.demo) ({ config: cfg, simulator } = await withDemoLogikal(cfg));
      try {
        await withServices(cfg, async (s) => {
          await migrateLatest(s.db);
          const { run, joined } = await logikal.forceSyncProject(s, { directory: o.directory, project: o.project, full: o.full });
          const final = await followRun(s, out, run, joined);
          if (final.status !== 'succeeded') process.exitCode = 1;
        });
      } finally {
        await simulator?.close();
      }
    });

  sync
    .command('iiko')
    .description('Sync the iiko department trees, then (with --sales-from/--sales-to) import daily sales, with live progress')
    .option('--server <name>', 'only this configured iiko server (default: all)')
    .option('--sales-from <date>', 'first business day of sales to import, YYYY-MM-DD')
    .option('--sales-to <date>', 'last business day of sales to import, YYYY-MM-DD (inclusive)')
    .option('--no-resume', 're-import the whole sales range instead of continuing after the last completed day')
    .option('--demo', 'use two built-in iiko simulators when IIKO_SERVERS is not set')
    .action(async (o: { server?: string; salesFrom?: string; salesTo?: string; resume: boolean; demo?: boolean }) => {
      if (Boolean(o.salesFrom) !== Boolean(o.salesTo)) {
        throw AppError.badInput('--sales-from and --sales-to go together', [{ field: o.salesFrom ? '--sales-to' : '--sales-from', message: 'required' }]);
      }
      // Before any work: a bad date must not leave a department sync behind it.
      if (o.salesFrom) iiko.validateSalesRange({ from: o.salesFrom, to: o.salesTo }, { from: '--sales-from', to: '--sales-to' });
      let cfg = config();
      const demo = o.demo ? await withDemoIiko(cfg) : null;
      if (demo) cfg = demo.config;
      try {
        await withServices(cfg, async (s) => {
          await migrateLatest(s.db);
          const outcomes: SyncRunView[] = [];
          const dep = await iiko.syncDepartments(s, { server: o.server });
          outcomes.push(await followRun(s, out, dep.run, dep.joined));
          if (o.salesFrom && o.salesTo) {
            const sales = await iiko.importSales(s, { server: o.server, from: o.salesFrom, to: o.salesTo, resume: o.resume });
            outcomes.push(await followRun(s, out, sales.run, sales.joined));
          }
          if (outcomes.some((r) => r.status !== 'succeeded')) process.exitCode = 1;
        });
      } finally {
        await demo?.close();
      }
    });

  const apikey = program.command('apikey').description('Manage API keys');
  apikey
    .command('create')
    .requiredOption('--name <name>', 'who or what uses the key')
    .requiredOption('--scopes <scopes>', 'comma-separated: read, sync, receipts, admin')
    .action(async (o: { name: string; scopes: string }) => {
      await withServices(config(), async (s) => {
        await migrateLatest(s.db);
        const { key, client } = await apiKeys.createApiKey(s, { name: o.name, scopes: o.scopes });
        printKey(out, key, client.name, client.scopes);
      });
    });
  apikey.command('list').action(async () => {
    await withServices(config(), async (s) => {
      const rows = await apiKeys.listApiKeys(s);
      if (!rows.length) out.log('no API keys');
      for (const r of rows) {
        out.log(
          [String(r.id).padStart(4), `oc_${r.keyPrefix}_…`, r.name.padEnd(24), r.scopes.join(',').padEnd(20),
            r.revokedAt ? `revoked ${r.revokedAt}` : `last used ${r.lastUsedAt ?? 'never'}`].join('  '),
        );
      }
    });
  });
  apikey
    .command('revoke <idOrPrefix>')
    .description('Revoke a key by id or by its oc_<prefix>')
    .action(async (idOrPrefix: string) => {
      await withServices(config(), async (s) => {
        const r = await apiKeys.revokeApiKey(s, idOrPrefix);
        out.log(`revoked ${r.id} (${r.name}) at ${r.revokedAt}`);
      });
    });

  const kkt = program.command('kkt').description('Cash register tools');
  kkt
    .command('emulator')
    .description('Run the Shtrih-M emulator (a test/dev tool) on a pseudo-terminal (needs socat) or a TCP port, until Ctrl-C')
    .option('--tcp <port>', 'serve it like a network register on this TCP port instead of a pty')
    .option('--model <model>', 'VAT byte table: shtrih | shtrih-nano', 'shtrih')
    .option('--print-ms <ms>', 'time a receipt takes to close (FN + print)', '300')
    .action(async (o: { tcp?: string; model: string; printMs: string }) => {
      if (o.model !== 'shtrih' && o.model !== 'shtrih-nano') throw AppError.badInput('--model must be shtrih or shtrih-nano');
      const emu = new ShtrihEmulator({ model: o.model, shiftOpen: true, shiftNumber: 1, timing: { closeMs: Number(o.printMs) || 0 } });
      let stop: () => Promise<void>;
      if (o.tcp) {
        const served = await serveEmulatorOverTcp(emu, { port: Number(o.tcp), host: '127.0.0.1' });
        out.log(`Shtrih-M emulator on tcp 127.0.0.1:${o.tcp}: start the middleware with KKT_TCP=127.0.0.1:${o.tcp}`);
        stop = () => served.close();
      } else {
        const pair = await openPtyPair();
        const served = await attachEmulatorToSerial(emu, pair.devicePath);
        out.log(`Shtrih-M emulator on a pseudo-terminal: start the middleware with KKT_PORT=${pair.hostPath}`);
        stop = async () => {
          await served.close();
          await pair.close();
        };
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      const docs = emu.journal();
      out.log(`${docs.filter((d) => d.type === 'receipt').length} receipts, ${docs.length} fiscal documents made; last FD ${docs.at(-1)?.fiscalDocumentNumber ?? 'none'}`);
      await stop();
    });

  program
    .command('schema')
    .description('Write schema/schema.graphql and schema/openrpc.json from the code')
    .command('emit')
    .action(async () => {
      for (const f of writeSchemaFiles()) out.log(`wrote ${f}`);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.exitCode;
      return;
    }
    if (e instanceof ConfigError || isAppError(e)) {
      console.error(`companion: ${e.message}`);
      process.exitCode = 2;
      return;
    }
    console.error(e);
    process.exitCode = 1;
  }
}
