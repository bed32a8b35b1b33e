import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
});
