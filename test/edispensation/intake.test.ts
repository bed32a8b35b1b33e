import { describe, expect, it } from 'vitest';
import { decideIntake, type IntakeContext } from '../../src/edispensation/intake.ts';
import { dispensationFingerprint, prescriptionKey } from '../../src/edispensation/checks.ts';
import { parseEhdsiDispensationCda } from '../../src/edispensation/parse-cda.ts';
import { parseM10 } from '../../src/edispensation/parse-m10.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../src/fhir/identifiers.ts';
import { validateM10 } from './support/xsd.ts';
import { activePrescription, ADDISON_RX, addison, czechDispensation, fixture, NCP } from './support/fixtures.ts';

const NOW = new Date('2026-11-20T12:00:00Z');
let counter = 0;
const ctx = (extra: Partial<IntakeContext> = {}): IntakeContext => ({
  channel: 'ncp',
  now: NOW,
  ncp: NCP,
  newMsgId: () => `00000000-0000-4000-8000-${String(++counter).padStart(12, '0')}`,
  patient: { personNumber: addison.fnr, family: addison.family, given: addison.given.join(' ') },
  ...extra,
});

describe('decideIntake', () => {
  it('accepts a new dispensation abroad and produces an XSD-valid M10 for the outbox', async () => {
    const d = czechDispensation();
    const decision = decideIntake(d, { prescription: activePrescription({ remainingDispensings: 1 }) }, ctx());
    if (decision.kind !== 'accepted') throw new Error(JSON.stringify(decision));
    expect(decision.fingerprint).toBe(dispensationFingerprint(d));
    expect(decision.remainingAfter).toBe(0);
    expect(decision.m10?.xml).toContain('<Avsluttet V="1" DN="Ja"/>');
    expect(decision.m10?.xml).toContain(`<MsgId>${decision.m10?.msgId}</MsgId>`);
    const v = await validateM10(decision.m10!.xml);
    expect(v.valid, v.output).toBe(true);
  });

  it('turns the same dispensation received twice into one M10: the second is a replay', async () => {
    const d = czechDispensation();
    const first = decideIntake(d, { prescription: activePrescription() }, ctx());
    if (first.kind !== 'accepted') throw new Error('first was not accepted');
    const again = decideIntake(czechDispensation(), { prescription: activePrescription({ remainingDispensings: 2 }), existing: { fingerprint: first.fingerprint, channel: 'ncp' } }, ctx());
    expect(again).toEqual({ kind: 'replay', key: first.key });
  });

  it('refuses different content under a used identifier with 409', async () => {
    const first = decideIntake(czechDispensation(), { prescription: activePrescription() }, ctx());
    if (first.kind !== 'accepted') throw new Error('first was not accepted');
    const changed = czechDispensation({ quantity: { value: 1, unit: '1', code: '1', system: 'http://unitsofmeasure.org' } });
    const decision = decideIntake(changed, { prescription: activePrescription(), existing: { fingerprint: first.fingerprint, channel: 'ncp' } }, ctx());
    expect(decision.kind === 'refused' && decision.problem.status).toBe(409);
  });

  it('answers a caller in the wrong flow by the flow, before any replay or conflict could tell it what is stored', async () => {
    const first = decideIntake(czechDispensation(), { prescription: activePrescription() }, ctx());
    if (first.kind !== 'accepted') throw new Error('first was not accepted');
    // The NCP's very message, resent by a pharmacy: not the stored dispensation back, but the flow's refusal.
    const resent = decideIntake(czechDispensation(), { prescription: activePrescription(), existing: { fingerprint: first.fingerprint, channel: 'ncp' } }, { ...ctx(), channel: 'pharmacy' });
    expect(resent.kind === 'refused' && resent.problem.issues[0]?.details?.coding?.[0]?.code).toBe('DISP-WRONG-DIRECTION');
    // An identifier the other flow used, on a prescription of the caller's own flow: a 409 that says only that.
    const collided = decideIntake(czechDispensation(), { prescription: activePrescription({ isEuPrescription: true }), existing: { fingerprint: first.fingerprint, channel: 'ncp' } }, { ...ctx(), channel: 'pharmacy' });
    expect(collided.kind === 'refused' && collided.problem.status).toBe(409);
    expect(collided.kind === 'refused' && collided.problem.issues[0]?.diagnostics).toMatch(/other direction/);
  });

  it('turns a discard within 24 hours into an annullering M10 naming the first M10', async () => {
    const cda = fixture('edispensation/no-addison-cz-substituted.xml');
    const opts = { systemForOid: (oid: string) => (oid === '2.999.47.1' ? PRESCRIPTION_ID_SYSTEM : undefined) };
    const original = parseEhdsiDispensationCda(cda, opts);
    const discard = parseEhdsiDispensationCda(cda, { ...opts, discard: true });
    if (!original.ok || !discard.ok) throw new Error('fixture does not parse');
    const decision = decideIntake(
      discard.value,
      {
        prescription: activePrescription({ remainingDispensings: 2 }),
        original: { exists: true, discarded: false, recordedAt: '2026-11-20T09:16:00Z', prescriptionKey: prescriptionKey(original.value), m10MsgId: '11111111-2222-4333-8444-555555555555' },
      },
      ctx(),
    );
    if (decision.kind !== 'accepted') throw new Error(JSON.stringify(decision));
    expect(decision.key.endsWith('|discard')).toBe(true);
    const xml = decision.m10!.xml;
    expect(xml).toContain('<Annullering>true</Annullering>');
    expect(xml).toContain('<AnnulleringsId>11111111-2222-4333-8444-555555555555</AnnulleringsId>');
    expect(xml).toContain(`<ReseptId>${ADDISON_RX}</ReseptId>`);
    // The withdrawn dispensing is given back, so the prescription is open again.
    expect(xml).toContain('<Avsluttet V="2" DN="Nei"/>');
    expect((await validateM10(xml)).valid).toBe(true);
  });

  it('refuses a discard after 24 hours and writes nothing', async () => {
    const d = czechDispensation({ status: 'discarded', discardOf: czechDispensation().identifier });
    const decision = decideIntake(d, { prescription: activePrescription(), original: { exists: true, discarded: false, recordedAt: '2026-11-19T09:00:00Z' } }, ctx());
    expect(decision.kind === 'refused' && decision.problem.issues[0]?.details?.coding?.[0]?.code).toBe('DISP-DISCARD-TOO-LATE');
  });

  it('accepts a Norwegian pharmacy\'s M10 for an EU prescription without building an M10', async () => {
    const m10 = parseM10(fixture('m10/sample-ekspedering-utlevering.xml'));
    if (!m10.ok) throw new Error('sample does not parse');
    const decision = decideIntake(m10.value, { prescription: activePrescription({ isEuPrescription: true, issuedOn: '2019-07-01', validUntil: '2020-07-01', patientIdentifiers: [] }) }, ctx({ channel: 'pharmacy' }));
    expect(decision.kind).toBe('accepted');
    expect(decision.kind === 'accepted' && decision.m10).toBeUndefined();
  });
});
