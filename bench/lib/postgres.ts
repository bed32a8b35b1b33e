// A PostgreSQL for the bench: BENCH_DATABASE_URL when given; otherwise a private cluster started from
// the local PostgreSQL binaries (as .ci/run does), kept in the temp dir between runs so a loaded
// million-patient population is reused, and stopped when the bench ends.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgHandle {
  url: string;
  /** Where it came from, for the report. */
  description: string;
  stop(): Promise<void>;
}

const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env } }, (err, out, errOut) => (err ? reject(new Error(`${cmd} ${args[0] ?? ''}: ${errOut || err.message}`)) : resolve(out)));
  });

async function reachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const r = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return r.rows[0]?.v;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function findPgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl'))).sort((a, b) => Number(a) - Number(b));
  const v = versions.pop();
  return v ? join(root, v, 'bin') : undefined;
}

/** The bench's PostgreSQL, or the reason there is none. */
export async function acquirePostgres(opts: { fresh: boolean; log: (s: string) => void }): Promise<PgHandle | { unavailable: string }> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given) {
    const version = await reachable(given);
    if (!version) return { unavailable: 'BENCH_DATABASE_URL is set but the database does not answer' };
    return { url: given, description: `PostgreSQL ${version} (BENCH_DATABASE_URL)`, stop: async () => undefined };
  }
  const bin = findPgBin();
  if (!bin) return { unavailable: 'no PostgreSQL: set BENCH_DATABASE_URL or install PostgreSQL (Debian: postgresql)' };
  const root = process.env.BENCH_PG_DIR ?? join(tmpdir(), 'helsebro-bench-pg');
  const data = join(root, 'data');
  const port = Number(process.env.BENCH_PG_PORT ?? 55439);
  const asRoot = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root; as root the cluster belongs to the postgres user, like in .ci/run.
  const as = (cmd: string, args: string[]): Promise<string> => (asRoot ? run('runuser', ['-u', 'postgres', '--', cmd, ...args]) : run(cmd, args));
  if (opts.fresh) rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(root, uid, gid);
  }
  if (!existsSync(join(data, 'PG_VERSION'))) {
    opts.log(`initialising a PostgreSQL cluster in ${data}`);
    await as(join(bin, 'initdb'), ['-D', data, '-U', 'helsebro', '--auth=trust', '-E', 'UTF8']);
  }
  const settings = [
    `-c listen_addresses=127.0.0.1`,
    `-c port=${port}`,
    `-c unix_socket_directories=${root}`,
    `-c max_connections=100`,
    `-c shared_buffers=512MB`,
    `-c max_wal_size=4GB`,
    // No statement logging, whatever an ALTER SYSTEM left in the cluster: a leftover log_min_duration_statement
    // of 0 from a diagnosis once had every statement of every run written out with its parameters (33 GB),
    // at a cost to the store that the runs measured.
    `-c log_min_duration_statement=-1`,
    `-c log_statement=none`,
    `-c log_duration=off`,
  ].join(' ');
  // A run that was interrupted may have left its cluster running: use it as it is.
  const running = await as(join(bin, 'pg_ctl'), ['-D', data, 'status']).then(() => true, () => false);
  if (!running) await as(join(bin, 'pg_ctl'), ['-D', data, '-l', join(root, 'log'), '-w', '-o', settings, 'start']);
  const adminUrl = `postgres://helsebro@127.0.0.1:${port}/postgres`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const exists = await admin.query("select 1 from pg_database where datname = 'helsebro_bench'");
  if (exists.rowCount === 0) await admin.query('create database helsebro_bench');
  const version = (await admin.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]?.v ?? '?';
  await admin.end();
  return {
    url: `postgres://helsebro@127.0.0.1:${port}/helsebro_bench`,
    description: `PostgreSQL ${version} (private cluster in ${root}, shared_buffers 512MB)`,
    stop: async () => {
      await as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const out = await run('id', ['postgres']);
  const uid = /uid=(\d+)/.exec(out)?.[1];
  const gid = /gid=(\d+)/.exec(out)?.[1];
  if (!uid || !gid) throw new Error('running as root, but there is no postgres user to own the bench cluster');
  return { uid: Number(uid), gid: Number(gid) };
}
