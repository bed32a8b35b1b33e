// The scale population: N synthetic patients with about ten NPR/KPR episodes each, written in bulk.
// Patients and identifiers go in as arrays (unnest); episodes are generated server-side with
// generate_series, so the client sends 11 bytes per patient and PostgreSQL writes the rest.
import { checkDigits, OID, parsePersonNumber } from '../../src/fhir/identifiers.ts';
import type { Db } from '../../src/store/db.ts';

export interface Person {
  fnr: string;
  birthDate: string;
}

/**
 * `count` distinct synthetic fødselsnumre (month + 80, valid check digits), deterministic, born 1935-2019.
 * Individual numbers follow the century rules (000-499 for the 1900s, 500-999 for the 2000s).
 */
export function benchPeople(count: number): Person[] {
  const dates: { stem: string; iso: string; y2k: boolean }[] = [];
  for (let t = Date.UTC(1935, 0, 1); t < Date.UTC(2020, 0, 1); t += 86_400_000) {
    const d = new Date(t);
    const yyyy = d.getUTCFullYear();
    const mm = d.getUTCMonth() + 1;
    const dd = d.getUTCDate();
    dates.push({
      stem: `${String(dd).padStart(2, '0')}${mm + 80}${String(yyyy % 100).padStart(2, '0')}`,
      iso: `${yyyy}-${String(mm).padStart(2, '0')}-${String(dd).padStart(2, '0')}`,
      y2k: yyyy >= 2000,
    });
  }
  const out: Person[] = [];
  for (let individual = 0; individual < 500 && out.length < count; individual++) {
    for (const date of dates) {
      const stem = date.stem + String((date.y2k ? 500 : 0) + individual).padStart(3, '0');
      const k = checkDigits(stem);
      if (!k) continue;
      out.push({ fnr: stem + k, birthDate: date.iso });
      if (out.length === count) break;
    }
  }
  if (out.length < count) throw new Error(`cannot make ${count} distinct synthetic numbers`);
  // The same rules the server applies: every thousandth number must read back as a synthetic fødselsnummer
  // with the birth date it was made for.
  for (let i = 0; i < out.length; i += 1000) {
    const p = parsePersonNumber(out[i]!.fnr);
    if (!p?.synthetic || p.kind !== 'fnr' || p.birthDate !== out[i]!.birthDate) throw new Error(`generated an invalid number for ${out[i]!.birthDate}`);
  }
  return out;
}

export const benchPatientId = (i: number): string => `bench-${String(i).padStart(7, '0')}`;

const CHUNK = 25_000;

const GIVEN = ['Nora', 'Emma', 'Sara', 'Ingrid', 'Kari', 'Jakob', 'Emil', 'Noah', 'Lars', 'Ola', 'Magnus', 'Knut'];
const FAMILY = ['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Andersen', 'Pedersen', 'Nilsen', 'Berg', 'Haugen', 'Hagen'];
// Realistic code mixes: ICD-10 for NPR (specialist care), ICPC-2 for KPR (primary care), NKPK procedures.
const ICD10 = ['I10', 'E11.9', 'J45.9', 'M17.1', 'G43.0', 'K21.9', 'F41.0', 'S52.5', 'N39.0', 'C50.9', 'I48.9', 'M54.5', 'J18.9'];
const ICPC2 = ['K86', 'T93', 'R74', 'L03', 'P76', 'A97', 'T90', 'R96', 'L86', 'S88'];
const NKPK = ['NGB40', 'JHGX00', 'SFY0HK', 'GDFC05', 'FPFE50', 'JFB30', 'ABC06'];

const sqlArray = (xs: string[]): string => `array[${xs.map((x) => `'${x}'`).join(',')}]`;

export interface PopulationProgress {
  (done: number, total: number): void;
}

/**
 * Makes sure the schema holds exactly this population (a marker row remembers what was loaded, so a second
 * run reuses it). Returns whether it had to load, and the seconds it took.
 */
export async function ensurePopulation(db: Db, size: number, episodesPerPatient: number, onProgress: PopulationProgress): Promise<{ loaded: boolean; seconds: number }> {
  await db.exec(`create table if not exists bench_population (size integer not null, episodes integer not null, loaded_at timestamptz not null default now())`);
  const marker = await db.query<{ size: number; episodes: number }>('select size, episodes from bench_population');
  if (marker.rows.length === 1 && marker.rows[0]!.size === size && marker.rows[0]!.episodes === episodesPerPatient) {
    return { loaded: false, seconds: 0 };
  }
  const t0 = performance.now();
  await db.exec('delete from bench_population; delete from demo_seed; truncate registry_episode, patient_identifier, patient cascade');
  const people = benchPeople(size);
  for (let start = 0; start < size; start += CHUNK) {
    const slice = people.slice(start, start + CHUNK);
    const fnrs = slice.map((p) => p.fnr);
    const births = slice.map((p) => p.birthDate);
    await db.tx(async (q) => {
      // n is the patient's number, 1-based across the whole population.
      const people = `select fnr, birth, (ord + $3::int)::int as n from unnest($1::text[], $2::text[]) with ordinality as t(fnr, birth, ord)`;
      await q.query(
        `insert into patient (id, resource)
         select 'bench-' || lpad(n::text, 7, '0'),
           jsonb_build_object(
             'resourceType', 'Patient', 'id', 'bench-' || lpad(n::text, 7, '0'),
             'identifier', jsonb_build_array(jsonb_build_object('use', 'official', 'system', '${OID.fnr}', 'value', fnr)),
             'active', true,
             'name', jsonb_build_array(jsonb_build_object('use', 'official',
               'family', (${sqlArray(FAMILY)})[1 + n % ${FAMILY.length}],
               'given', jsonb_build_array((${sqlArray(GIVEN)})[1 + n % ${GIVEN.length}]))),
             'gender', case when n % 2 = 0 then 'female' else 'male' end,
             'birthDate', birth,
             'address', jsonb_build_array(jsonb_build_object('use', 'home', 'city', 'Bergen', 'postalCode', '5003', 'country', 'NO')))
         from (${people}) p`,
        [fnrs, births, start],
      );
      await q.query(
        `insert into patient_identifier (system, value, patient_id)
         select '${OID.fnr}', fnr, 'bench-' || lpad(n::text, 7, '0') from (${people}) p
         on conflict do nothing`,
        [fnrs, births, start],
      );
      // Six NPR episodes (hospital, ICD-10, a procedure on every third) and the rest KPR (GP, ICPC-2).
      await q.query(
        `insert into registry_episode
           (registry, episode_id, patient_fnr, start_date, end_date, provider_system, provider_id, provider_name, diagnoses, procedures)
         select case when k <= 6 then 'npr' else 'kpr' end,
           'BENCH-' || n || '-' || k,
           fnr,
           d,
           d + (k % 4),
           case when k <= 6 then 'resh' else 'her' end,
           case when k <= 6 then (4001000 + n % 40)::text else (8700000 + n % 900)::text end,
           case when k <= 6 then 'Haukeland universitetssjukehus' else 'Bragernes legekontor' end,
           case when k <= 6 then array[(${sqlArray(ICD10)})[1 + (n + k) % ${ICD10.length}]]
                else array[(${sqlArray(ICPC2)})[1 + (n * 3 + k) % ${ICPC2.length}]] end,
           case when k <= 6 and k % 3 = 0 then array[(${sqlArray(NKPK)})[1 + (n + k) % ${NKPK.length}] || '@' || to_char(d, 'YYYY-MM-DD')]
                else '{}'::text[] end
         from (${people}) p
         cross join generate_series(1, $4::int) as k
         cross join lateral (select date '2005-01-01' + ((n * 37 + k * 397) % 7300) as d) as dd`,
        [fnrs, births, start, episodesPerPatient],
      );
    });
    onProgress(Math.min(size, start + CHUNK), size);
  }
  await db.exec('analyze patient; analyze patient_identifier; analyze registry_episode');
  await db.query('insert into bench_population (size, episodes) values ($1, $2)', [size, episodesPerPatient]);
  return { loaded: true, seconds: (performance.now() - t0) / 1000 };
}
