// `npx helsebro <command>`: operator tools that run without a server.
import { ConfigError, loadConfig, type Config } from './config.ts';

type Command = (args: string[], config: Config) => Promise<number>;

const COMMANDS: Record<string, { summary: string; run: Command }> = {
  token: {
    summary: 'print an access token from the demo issuer (--help for options)',
    run: async (args, config) => {
      const { runTokenCommand } = await import('./auth/token-cli.ts');
      return runTokenCommand(args, { dataDir: config.dataDir, mode: config.mode });
    },
  },
  ingest: {
    summary: 'load an NPR or KPR daily extract or a FEST M30 catalogue: ingest npr|kpr|fest FILE',
    run: async (args, config) => {
      const { openStore } = await import('./store/open.ts');
      const db = await openStore(config);
      try {
        if (args[0] === 'fest') {
          const { festIngestCommand } = await import('./registries/fest/cli.ts');
          return await festIngestCommand(args.slice(1), db, { stdout: process.stdout, stderr: process.stderr });
        }
        const { ingestCommand } = await import('./sources/registry-episodes/cli.ts');
        return await ingestCommand(args, db, { stdout: process.stdout, stderr: process.stderr });
      } finally {
        await db.close();
      }
    },
  },
  'convert-m1': {
    summary: 'convert M1 files or folders to the EU ePrescription (MPD FHIR, eHDSI CDA) without a server (--help)',
    run: async (args, config) => {
      const { convertM1Command } = await import('./eprescription/cli/convert-m1.ts');
      const { relaunchTuned } = await import('./eprescription/cli/relaunch.ts');
      return convertM1Command(args, config, { stdout: process.stdout, stderr: process.stderr, beforeLongRun: relaunchTuned });
    },
  },
  migrate: {
    summary: 'apply pending database migrations and exit',
    run: async (_args, config) => {
      const { openStore } = await import('./store/open.ts');
      const db = await openStore(config);
      await db.close();
      process.stdout.write(`migrations applied (${config.databaseUrl ? 'postgres' : 'pglite'})\n`);
      return 0;
    },
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return [
    'usage: npx helsebro <command> [options]',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`helsebro: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`helsebro: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return command.run(args, config);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`helsebro: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
