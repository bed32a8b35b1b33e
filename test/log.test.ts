import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { startupBanner } from '../src/banner.ts';
import { PERSONAS } from '../src/demo/personas.ts';
import { createLogger, loggableUrl } from '../src/log.ts';

describe('log redaction', () => {
  it('censors personal fields wherever the configuration names them', () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    log.info(
      {
        fnr: '05886610019',
        patient: { name: 'Bjørn Haugland' },
        req: { headers: { authorization: 'Bearer eyJhbGciOi.secret' } },
        result: { name: 'Kari', given: ['Kari'], family: 'Nordmann', identifier: [{ value: '05886610019' }] },
      },
      'x',
    );
    const line = lines.join('');
    for (const secret of ['05886610019', 'Haugland', 'Nordmann', 'Kari', 'eyJhbGciOi']) expect(line).not.toContain(secret);
    expect(line).toContain('[redacted]');
  });

  it('masks identifying query values and 11-digit numbers in URLs', () => {
    expect(loggableUrl('/fhir/Patient?identifier=urn:oid:2.16.578.1.12.4.1.4.1|05886610019&_count=5')).toBe(
      '/fhir/Patient?identifier=[redacted]&_count=5',
    );
    expect(loggableUrl('/fhir/Patient/05886610019/$summary')).toBe('/fhir/Patient/[fnr]/$summary');
    expect(loggableUrl('/fhir/AuditEvent?patient=Patient/ms&date=ge2026')).toBe('/fhir/AuditEvent?patient=[redacted]&date=ge2026');
    expect(loggableUrl('/fhir/x?q=12345678901')).toBe('/fhir/x?q=%5Bfnr%5D');
  });

  it('masks a fødselsnummer written with a dash or a space, or percent-encoded', () => {
    expect(loggableUrl('/fhir/Patient/128394-10075/$summary')).toBe('/fhir/Patient/[fnr]/$summary');
    expect(loggableUrl('/fhir/Patient/%31%32%38%33%39%34%31%30%30%37%35')).toBe('/fhir/Patient/[fnr]');
    expect(loggableUrl('/fhir/x?q=128394%2D10075')).toBe('/fhir/x?q=%5Bfnr%5D');
    expect(loggableUrl('/fhir/x?q=128394+10075')).toBe('/fhir/x?q=%5Bfnr%5D');
    expect(loggableUrl('/fhir/x?q=128394%2010075')).toBe('/fhir/x?q=%5Bfnr%5D');
  });

  it('masks person numbers in any message or field a log line carries, and keeps errors readable', () => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    log.info({ reason: 'no patient 12839410075', detail: { text: 'person 128394-10075 and %31%32%38%33%39%34%31%30%30%37%35' } }, 'x');
    log.error({ err: new Error('boom') }, 'failed');
    const text = lines.join('');
    expect(text).not.toMatch(/12839410075|128394-10075|%31%32/);
    expect(text.match(/\[fnr\]/g)).toHaveLength(3);
    expect(text).toContain('boom');
  });
});

describe('the start-up banner', () => {
  it('names no fødselsnummer, in demo or production mode', () => {
    for (const mode of ['demo', 'production'] as const) {
      const text = startupBanner({ url: 'http://127.0.0.1:8080', mode, engine: 'pglite', seconds: '1.0' });
      expect(text).toContain('Helsebro listening on http://127.0.0.1:8080');
      expect(text).not.toMatch(/\d{6}[-\s]?\d{5}/);
      for (const p of Object.values(PERSONAS)) expect(text).not.toContain(p.fnr);
    }
  });
});
