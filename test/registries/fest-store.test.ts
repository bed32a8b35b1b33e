import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { festDrugRegistry, findProduct, type DrugRegistry } from '../../src/registries/drugs.ts';
import { FestFormatError } from '../../src/registries/fest/m30-parser.ts';
import { ingestFest, ingestFestFile, loadDemoFest, type FestProgress } from '../../src/registries/fest/ingest.ts';
import { festCounts, findFestLoad, getFestRecord } from '../../src/registries/fest/repository.ts';
import { engines, getTestDb } from '../support/db.ts';

const M30 = 'http://www.kith.no/xmlstds/eresept/m30/2014-12-01';
const FS = 'http://www.kith.no/xmlstds/eresept/forskrivning/2014-12-01';

// A one-package catalogue whose ids start with `prefix`, so each test owns its rows in the shared database.
function catalogue(prefix: string, opts: { name?: string; time?: string; varenr?: string; status?: string } = {}): string {
  const time = opts.time ?? '2026-01-01T00:00:00';
  const name = opts.name ?? 'Testol Tab 5 mg';
  return `<?xml version="1.0" encoding="UTF-8"?>
<FEST xmlns="${M30}" xmlns:fs="${FS}"><HentetDato>${time}</HentetDato>
<KatLegemiddelpakning><OppfLegemiddelpakning><Id>${prefix}-E</Id><Tidspunkt>${time}</Tidspunkt><Status V="${opts.status ?? 'A'}"/>
<fs:Legemiddelpakning><fs:Atc V="A01AA01"/><fs:NavnFormStyrke>${name}</fs:NavnFormStyrke><fs:Reseptgruppe V="C"/>
<fs:Id>${prefix}-PK</fs:Id><fs:Varenr>${opts.varenr ?? '999001'}</fs:Varenr></fs:Legemiddelpakning></OppfLegemiddelpakning></KatLegemiddelpakning></FEST>`;
}

function tempFile(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'helsebro-fest-'));
  const path = join(dir, 'm30.xml');
  writeFileSync(path, content);
  return path;
}

describe.each(engines)('FEST in the store (%s)', (engine) => {
  let db: Db;
  let registry: DrugRegistry;
  beforeAll(async () => {
    db = await getTestDb(engine);
    await loadDemoFest(db);
    registry = festDrugRegistry(db);
  });

  it('loads the demo catalogue once: a second start finds the load and does nothing', async () => {
    const counts = await festCounts(db);
    expect(counts.pakning).toBeGreaterThanOrEqual(25);
    const again = await loadDemoFest(db);
    expect(again.skipped).toBe(true);
    expect(again.records).toBe(101);
    expect(await festCounts(db)).toEqual(counts);
  });

  it('is idempotent when the same file is forced in again', async () => {
    const path = tempFile(catalogue('idem'));
    const first = await ingestFestFile(db, path, undefined, { force: true });
    const second = await ingestFestFile(db, path, undefined, { force: true });
    expect(first.records).toBe(1);
    expect(second.records).toBe(1);
    const rows = await db.query<{ n: number }>(`select count(*)::int as n from fest_entry where fest_id like 'idem-%'`);
    expect(rows.rows[0]?.n).toBe(1);
  });

  it('records the load by content hash and skips an identical file under another name', async () => {
    const content = catalogue('hash');
    const a = await ingestFestFile(db, tempFile(content), undefined, { source: 'first' });
    expect(a.skipped).toBe(false);
    expect((await findFestLoad(db, a.sha256))?.source).toBe('first');
    const b = await ingestFestFile(db, tempFile(content));
    expect(b).toMatchObject({ skipped: true, sha256: a.sha256, records: 1 });
  });

  it('lets a newer entry replace an older one, and never the reverse', async () => {
    await ingestFest(db, catalogue('age', { name: 'Testol Tab 5 mg (ny)', time: '2026-06-01T00:00:00' }));
    await ingestFest(db, catalogue('age', { name: 'Testol Tab 5 mg (gammel)', time: '2025-01-01T00:00:00' }));
    expect((await getFestRecord(db, 'age-PK'))?.meta.timestamp).toBe('2026-06-01T00:00:00');
    await ingestFest(db, catalogue('age', { name: 'Testol Tab 5 mg (nyest)', time: '2026-09-01T00:00:00' }));
    const latest = await getFestRecord(db, 'age-PK');
    expect(latest?.kind === 'pakning' && latest.data.name).toBe('Testol Tab 5 mg (nyest)');
  });

  it('reports progress with bytes and records', async () => {
    const seen: FestProgress[] = [];
    const report = await ingestFestFile(db, tempFile(catalogue('prog')), (p) => seen.push(p), { force: true, batchSize: 1 });
    expect(report.records).toBe(1);
    const last = seen[seen.length - 1];
    expect(last?.records).toBe(1);
    expect(last?.bytesRead).toBe(last?.totalBytes);
    expect(last?.totalBytes).toBeGreaterThan(100);
  });

  it('loads the valid entries of a file with invalid ones and reports those', async () => {
    const report = await ingestFestFile(db, new URL('../fixtures/fest/prefixed-m30.xml', import.meta.url).pathname, undefined, { force: true });
    expect(report.records).toBe(4);
    expect(report.invalid).toBe(1);
    expect(report.invalidEntries[0]?.path).toBe('OppfLegemiddelpakning/Legemiddelpakning/Varenr');
    expect(await getFestRecord(db, 'ID_PK-BROKEN')).toBeUndefined();
  });

  it('refuses a hostile file and does not record it as loaded', async () => {
    const path = tempFile(`<?xml version="1.0"?><!DOCTYPE FEST [<!ENTITY x SYSTEM "file:///etc/passwd">]><FEST xmlns="${M30}">&x;</FEST>`);
    await expect(ingestFestFile(db, path)).rejects.toBeInstanceOf(FestFormatError);
    const loads = await db.query<{ n: number }>(`select count(*)::int as n from fest_load where source = $1`, [path]);
    expect(loads.rows[0]?.n).toBe(0);
  });

  it('resolves a package by varenummer to strength, substance, route, form and package', async () => {
    const p = await registry.byVarenr('054362');
    expect(p).toMatchObject({
      kind: 'pakning',
      name: 'Tysabri Kons til inf 300 mg',
      brandName: 'Tysabri',
      atc: { code: 'L04AG03' },
      doseForm: { code: '460' },
      doseFormText: 'Konsentrat til infusjonsvæske, oppløsning',
      routes: [{ code: '43', display: 'Intravenøs bruk' }],
      ingredients: [{ substance: 'Natalizumab', substanceEnglish: 'Natalizumab', strength: { value: 20, unit: 'mg' }, denominator: { value: 1, unit: 'ml' } }],
      package: { size: '15', amount: 15, unit: { code: 'ml' }, packageType: { code: '37' } },
      manufacturer: 'Biogen',
      status: 'A',
    });
  });

  it('finds a varenummer sent without its leading zero, and not a malformed one', async () => {
    expect((await registry.byVarenr('17426'))?.varenr).toBe('017426');
    expect(await registry.byVarenr("017426' or '1'='1")).toBeUndefined();
    expect(await registry.byVarenr('')).toBeUndefined();
  });

  it('resolves a brand by the FEST id the demo medication list uses', async () => {
    const florinef = await registry.byFestId('ID_5D1E9B77-2C4A-4F83-8E10-6A7B8C9D0E1F');
    expect(florinef).toMatchObject({ kind: 'merkevare', brandName: 'Florinef', ingredients: [{ strength: { value: 0.1, unit: 'mg' } }] });
    expect(florinef?.package).toBeUndefined();
    expect(await registry.byFestId('ID_DOES-NOT-EXIST')).toBeUndefined();
  });

  it('resolves a product with two active substances', async () => {
    const pinex = await registry.byVarenr('487256');
    expect(pinex?.ingredients.map((i) => [i.substanceEnglish, i.strength?.value])).toEqual([
      ['Paracetamol', 500],
      ['Codeine phosphate hemihydrate', 30],
    ]);
  });

  it('findProduct: a known product by varenummer has no warnings', async () => {
    const r = await findProduct(registry, { kind: 'Legemiddelpakning', varenr: '154021', atc: 'M01AE01', name: 'Ibux Tab 400 mg' });
    expect(r).toMatchObject({ matchedBy: 'varenr', warnings: [] });
    expect(r.product?.ingredients[0]?.strength).toEqual({ value: 400, unit: 'mg' });
  });

  it('findProduct: an unknown product is no error, but a warning with a stable code', async () => {
    const r = await findProduct(registry, { kind: 'Legemiddelpakning', varenr: '123456', atc: 'N02BE01', name: 'Ukjent <b>Tab</b> 1 mg' }, { expression: 'Resept.ReseptDokLegemiddel' });
    expect(r.product).toBeUndefined();
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatchObject({ severity: 'warning', code: 'not-found', expression: ['Resept.ReseptDokLegemiddel'] });
    expect(r.warnings[0]?.details?.coding?.[0]?.code).toBe('FEST-UNKNOWN-PRODUCT');
  });

  it('findProduct: never by ATC and name, even when both match a product exactly', async () => {
    const byName = await findProduct(registry, { kind: 'Legemiddelpakning', varenr: '000001', atc: 'C10AA01', name: 'Zocor Tab 10 mg' });
    expect(byName.product).toBeUndefined();
    expect(byName.warnings.map((w) => w.details?.coding?.[0]?.code)).toEqual(['FEST-UNKNOWN-PRODUCT']);
    expect(byName.warnings[0]?.diagnostics).toContain('Legemiddelpakning with varenummer 000001');
  });

  it('findProduct: a FEST id on a package counts only when it is the package with that varenummer', async () => {
    const known = await registry.byVarenr('154021');
    const same = await findProduct(registry, { kind: 'Legemiddelpakning', varenr: '999999', festId: known!.festId });
    expect(same.product).toBeUndefined();
    const merkevare = await findProduct(registry, { kind: 'LegemiddelMerkevare', festId: known!.merkevareId });
    expect(merkevare).toMatchObject({ matchedBy: 'fest-id', product: { kind: 'merkevare' } });
  });

  it('findProduct: warns on an expired entry and an ATC mismatch', async () => {
    const expired = await findProduct(registry, { kind: 'Legemiddelpakning', varenr: '017454' });
    expect(expired.warnings.map((w) => w.details?.coding?.[0]?.code)).toEqual(['FEST-EXPIRED-ENTRY']);
    const mismatch = await findProduct(registry, { kind: 'Legemiddelpakning', varenr: '154021', atc: 'N02BE01' });
    expect(mismatch.warnings.map((w) => w.details?.coding?.[0]?.code)).toEqual(['FEST-ATC-MISMATCH']);
  });
});
