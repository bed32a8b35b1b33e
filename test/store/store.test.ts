import { beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.ts';
import { loadMigrations, migrate, splitStatements } from '../../src/store/migrate.ts';
import { findPatientByIdentifier, readPatient, searchPatients, upsertPatient } from '../../src/store/patients.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { engines, getTestDb } from '../support/db.ts';

describe('migration script splitting', () => {
  it('keeps dollar-quoted function bodies whole and drops comment lines', () => {
    const sql = `-- a comment; with a semicolon
create table t (a int);
create function f() returns trigger language plpgsql as $$
begin
  raise exception 'no; never';
end;
$$;
insert into t values (1);`;
    const parts = splitStatements(sql);
    expect(parts).toHaveLength(3);
    expect(parts[1]).toContain("raise exception 'no; never';");
    expect(parts[1]!.endsWith('$$;')).toBe(true);
  });

  it('finds the migrations in version order with unique versions', () => {
    const ms = loadMigrations();
    expect(ms.length).toBeGreaterThan(0);
    const versions = ms.map((m) => m.version);
    expect([...versions].sort()).toEqual(versions);
    expect(new Set(versions).size).toBe(versions.length);
  });
});

describe.each(engines)('store on %s', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  it('reports its engine and answers a ping', async () => {
    expect(db.engine).toBe(engine);
    await expect(db.ping()).resolves.toBeUndefined();
  });

  it('applies migrations once: a second run applies nothing and keeps the schema', async () => {
    expect(await migrate(db)).toEqual([]);
    expect(await migrate(db)).toEqual([]);
    const r = await db.query<{ n: number }>('select count(*)::int as n from schema_migrations');
    expect(r.rows[0]!.n).toBe(loadMigrations().length);
  });

  it('rolls a failed transaction back completely', async () => {
    const id = `tx-${engine}-${Date.now()}`;
    await expect(
      db.tx(async (q) => {
        await upsertPatient(q, { resourceType: 'Patient', id, identifier: [{ system: OID.fnr, value: `x${id}` }] });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await readPatient(db, id)).toBeUndefined();
  });

  it('stores patients and finds them by token semantics', async () => {
    const id = `tok-${engine}`;
    const fnr = '05886610019';
    const dnrValue = `D-${engine}`;
    await upsertPatient(db, {
      resourceType: 'Patient',
      id,
      identifier: [
        { system: `urn:test:${engine}`, value: fnr },
        { system: OID.dnr, value: dnrValue },
      ],
    });
    expect((await readPatient(db, id))?.resourceType).toBe('Patient');
    expect((await findPatientByIdentifier(db, OID.dnr, dnrValue))?.id).toBe(id);
    const bySystemAndValue = await searchPatients(db, { identifiers: [{ system: `urn:test:${engine}`, value: fnr }], count: 10, offset: 0 });
    expect(bySystemAndValue.patients.map((p) => p.id)).toEqual([id]);
    const byValueAnySystem = await searchPatients(db, { identifiers: [{ value: dnrValue }], count: 10, offset: 0 });
    expect(byValueAnySystem.total).toBe(1);
    const bySystemOnly = await searchPatients(db, { identifiers: [{ system: `urn:test:${engine}` }], count: 10, offset: 0 });
    expect(bySystemOnly.patients.map((p) => p.id)).toEqual([id]);
    const wrongSystem = await searchPatients(db, { identifiers: [{ system: OID.hpr, value: fnr }], count: 10, offset: 0 });
    expect(wrongSystem.total).toBe(0);
  });

  it('replaces identifiers on update so old ones stop matching', async () => {
    const id = `upd-${engine}`;
    await upsertPatient(db, { resourceType: 'Patient', id, identifier: [{ system: 'urn:test:old', value: id }] });
    await upsertPatient(db, { resourceType: 'Patient', id, identifier: [{ system: 'urn:test:new', value: id }] });
    expect(await findPatientByIdentifier(db, 'urn:test:old', id)).toBeUndefined();
    expect((await findPatientByIdentifier(db, 'urn:test:new', id))?.id).toBe(id);
  });
});
