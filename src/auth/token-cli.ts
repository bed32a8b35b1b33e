// `npx helsebro token --scope "..." [--hpr N] [--org N] [--patient FNR] [--client NAME]`: prints a token
// signed by the demo issuer. The token alone goes to stdout (TOKEN=$(npx helsebro token ...)); what it
// says goes to stderr.
import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { PERSONAS } from '../demo/personas.ts';
import { DEFAULT_TTL_SEC, DemoTokenError, demoTokenKind, loadDemoIssuer, type DemoTokenOptions } from './demo-issuer.ts';

export const TOKEN_USAGE = `Usage: npx helsebro token --scope "SCOPES" (--hpr N | --patient FNR | --client NAME) [options]

Prints an access token signed by the embedded demo issuer (demo mode only).

Who the token is for:
  --hpr N              a clinician with this HPR number (through an EPJ; --client names the EPJ)
  --patient FNR        a citizen with this fødselsnummer (or a demo persona key, e.g. addison)
  --client NAME        a system client when neither of the above; its role comes from the client id:
                       ncp-no (NCP gateway), pharmacy-<name> (pharmacy system), operator, auditor;
                       a pharmacy reports in its organisation's name only: give it --org, or use
                       pharmacy-apotek1-ski (registered in the demo as org 983044778, HER 8090688)

Options:
  --scope "..."        SMART scopes, space-separated: user/... for clinicians, patient/... for citizens,
                       system/... for system clients (e.g. "user/Patient.rs user/AllergyIntolerance.rs")
  --org N              organisation number (clinicians default to a demo organisation)
  --role CODE          clinician role, Volven 9060 (default LE)
  --purpose CODE       purpose of use, HL7 v3 (clinicians default to TREAT)
  --acting-for FNR     a citizen acting for another person; with --relation guardian|proxy (default guardian)
  --ttl SECONDS        lifetime (default ${DEFAULT_TTL_SEC})
  --claims             also print the token's claims to stderr

Examples:
  npx helsebro token --hpr 9876543 --scope "user/Patient.rs"
  npx helsebro token --patient addison --scope "patient/Patient.r patient/AuditEvent.rs"
  npx helsebro token --client ncp-no --scope "system/Patient.r system/MedicationRequest.rs"
  npx helsebro token --client pharmacy-apotek1 --scope "system/MedicationRequest.r system/MedicationDispense.cr"
  npx helsebro token --client operator --scope "system/MedicationDispense.us"
  npx helsebro token --client auditor --scope "system/AuditEvent.rs"
`;

export interface TokenCommandOptions {
  dataDir: string;
  /** The configured HELSEBRO_MODE: production has no demo issuer, so there is nothing to sign with. */
  mode?: 'demo' | 'production';
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  now?: Date;
}

/** Runs the token command with the arguments after `token`; returns the process exit code. */
export async function runTokenCommand(argv: readonly string[], opts: TokenCommandOptions): Promise<number> {
  const out = opts.stdout ?? ((t: string) => process.stdout.write(t));
  const err = opts.stderr ?? ((t: string) => process.stderr.write(t));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scope: { type: 'string' },
        hpr: { type: 'string' },
        org: { type: 'string' },
        patient: { type: 'string' },
        client: { type: 'string' },
        role: { type: 'string' },
        purpose: { type: 'string' },
        'acting-for': { type: 'string' },
        relation: { type: 'string' },
        ttl: { type: 'string' },
        claims: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${TOKEN_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(TOKEN_USAGE);
    return 0;
  }
  if (opts.mode === 'production') {
    err('helsebro token works in demo mode only: with HELSEBRO_MODE=production tokens come from the configured issuer (HelseID)\n');
    return 2;
  }
  const str = (k: string): string | undefined => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const scope = str('scope');
  if (!scope?.trim()) {
    err(`--scope is required\n\n${TOKEN_USAGE}`);
    return 2;
  }
  const relation = str('relation') ?? 'guardian';
  if (relation !== 'guardian' && relation !== 'proxy') {
    err('--relation must be guardian or proxy\n');
    return 2;
  }
  const ttlText = str('ttl');
  const ttlSec = ttlText === undefined ? undefined : /^\d+$/.test(ttlText) ? Number(ttlText) : NaN;
  const actingFor = str('acting-for');
  const tokenOpts: DemoTokenOptions = {
    scope,
    hpr: str('hpr'),
    org: str('org'),
    patient: personaOrFnr(str('patient')),
    client: str('client'),
    role: str('role'),
    purpose: str('purpose'),
    actingFor: actingFor ? { fnr: personaOrFnr(actingFor) ?? actingFor, relation } : undefined,
    ttlSec,
    now: opts.now,
  };
  try {
    const kind = demoTokenKind(tokenOpts);
    const issuer = await loadDemoIssuer(opts.dataDir);
    const token = await issuer.issueDemoToken(tokenOpts);
    const claims = decodeJwt(token);
    out(`${token}\n`);
    err(`${kind} token from ${issuer.issuer} for ${issuer.audience}, expires ${new Date((claims.exp ?? 0) * 1000).toISOString()}\n`);
    if (values.claims) err(`${JSON.stringify(claims, null, 2)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof DemoTokenError) {
      err(`${e.message}\n`);
      return 2;
    }
    err(`Could not issue a token: ${(e as Error).message}\n`);
    return 1;
  }
}

/** A demo persona key (`addison`) stands for that persona's fødselsnummer. */
function personaOrFnr(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const persona = (PERSONAS as Record<string, { fnr: string } | undefined>)[value];
  return persona?.fnr ?? value;
}
