// Registry episodes -> one Condition per diagnosis code and one Procedure per procedure and date (pure).
// A diagnosis becomes, as in the national concept sketch, "Migrene uten aura, 11.03.1993 - 31.10.2024,
// 21 oppføringer": the Condition's onsetDateTime is the first episode, and Helsebro's
// registry-episode-summary extension holds first seen, last seen, the number of episodes and the
// registries. The same code from NPR and KPR merges into one Condition (mergeEpisodeConditions).
import type { Condition, Extension, Meta, Procedure, Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM, OID } from '../../fhir/identifiers.ts';
import { codeDisplay } from '../code-displays.ts';
import { EPISODE_SUMMARY_EXT, IPS_PROFILE, problemListCategory } from '../ips.ts';
import { localId, patientReference, sourceMeta, sourceTag, sourcesOf, type PatientKey, type SourceName } from '../source.ts';
import type { Episode, ProviderSystem, RegistryKind } from './format.ts';

export const DIAGNOSIS_SYSTEM: Record<RegistryKind, string> = { npr: CODE_SYSTEM.icd10, kpr: CODE_SYSTEM.icpc2 };

export const PROVIDER_ID_SYSTEM: Record<ProviderSystem, string> = {
  resh: 'urn:oid:2.16.578.1.12.4.1.4.102',
  orgnr: OID.orgnr,
  her: OID.her,
};

export interface DiagnosisAggregate {
  system: string;
  code: string;
  firstSeen: string;
  lastSeen: string;
  episodes: number;
  registries: RegistryKind[];
}

const REGISTRY_LABEL: Record<RegistryKind, string> = { npr: 'NPR', kpr: 'KPR' };

/** One aggregate per diagnosis code, in order of first appearance. */
export function aggregateDiagnoses(episodes: Iterable<Episode>): DiagnosisAggregate[] {
  const byCode = new Map<string, DiagnosisAggregate>();
  for (const e of episodes) {
    const last = e.end ?? e.start;
    const codes = e.diagnoses;
    for (let i = 0; i < codes.length; i++) {
      const code = codes[i]!;
      // An episode counts once per code however often it lists it. Ingest caps an episode at 50 codes
      // (format.ts), so looking back costs less than a Set per episode, even at the cap.
      if (codes.indexOf(code) !== i) continue;
      const system = DIAGNOSIS_SYSTEM[e.registry];
      const key = `${system}|${code}`;
      const agg = byCode.get(key);
      if (!agg) {
        byCode.set(key, { system, code, firstSeen: e.start, lastSeen: last, episodes: 1, registries: [e.registry] });
        continue;
      }
      if (e.start < agg.firstSeen) agg.firstSeen = e.start;
      if (last > agg.lastSeen) agg.lastSeen = last;
      agg.episodes += 1;
      if (!agg.registries.includes(e.registry)) agg.registries.push(e.registry);
    }
  }
  return [...byCode.values()].sort((a, b) => (a.firstSeen < b.firstSeen ? -1 : a.firstSeen > b.firstSeen ? 1 : 0));
}

export function episodeSummaryExtension(a: Pick<DiagnosisAggregate, 'firstSeen' | 'lastSeen' | 'episodes' | 'registries'>): Extension {
  return {
    url: EPISODE_SUMMARY_EXT,
    extension: [
      { url: 'firstSeen', valueDate: a.firstSeen },
      { url: 'lastSeen', valueDate: a.lastSeen },
      { url: 'episodes', valueUnsignedInt: a.episodes },
      ...a.registries.map((r) => ({ url: 'registry', valueCode: REGISTRY_LABEL[r] })),
    ],
  };
}

/** Reads the extension back; undefined when the Condition does not carry it. */
export function readEpisodeSummary(c: Condition): Omit<DiagnosisAggregate, 'system' | 'code'> | undefined {
  const ext = c.extension?.find((e) => e.url === EPISODE_SUMMARY_EXT);
  if (!ext) return undefined;
  const part = (url: string) => ext.extension?.filter((e) => e.url === url) ?? [];
  const firstSeen = part('firstSeen')[0]?.valueDate;
  const lastSeen = part('lastSeen')[0]?.valueDate;
  const episodes = part('episodes')[0]?.valueUnsignedInt;
  if (!firstSeen || !lastSeen || episodes === undefined) return undefined;
  const registries = part('registry')
    .map((e) => (e.valueCode === 'NPR' ? 'npr' : e.valueCode === 'KPR' ? 'kpr' : undefined))
    .filter((r): r is RegistryKind => r !== undefined);
  return { firstSeen, lastSeen, episodes, registries };
}

export function diagnosisCondition(a: DiagnosisAggregate, patient: PatientKey): Condition {
  const display = codeDisplay(a.system, a.code, 'nb');
  const meta: Meta = { profile: [IPS_PROFILE.condition], tag: a.registries.map(sourceTag) };
  return {
    resourceType: 'Condition',
    id: localId(patient, 'registry-condition', `${a.system === CODE_SYSTEM.icpc2 ? 'icpc2' : 'icd10'}-${a.code}`),
    meta,
    extension: [episodeSummaryExtension(a)],
    category: [problemListCategory()],
    code: { coding: [{ system: a.system, code: a.code, ...(display ? { display } : {}) }], text: display ?? a.code },
    subject: patientReference(patient),
    onsetDateTime: a.firstSeen,
  };
}

export function episodeProcedures(episodes: Iterable<Episode>, patient: PatientKey): Procedure[] {
  const seen = new Map<string, Procedure>();
  for (const e of episodes) {
    for (const p of e.procedures) {
      const key = `${p.code}@${p.date}`;
      if (seen.has(key)) continue;
      const display = codeDisplay(CODE_SYSTEM.nkpk, p.code, 'nb');
      seen.set(key, {
        resourceType: 'Procedure',
        id: localId(patient, `${e.registry}-procedure`, `${p.code}-${p.date}`),
        meta: sourceMeta(e.registry, IPS_PROFILE.procedure),
        status: 'completed',
        code: { coding: [{ system: CODE_SYSTEM.nkpk, code: p.code, ...(display ? { display } : {}) }], text: display ?? p.code },
        subject: patientReference(patient),
        performedDateTime: p.date,
        // The institution is named by its national identifier only: it is not a resource of the document.
        performer: [
          {
            actor: {
              type: 'Organization',
              identifier: { system: PROVIDER_ID_SYSTEM[e.provider.system], value: e.provider.id },
              ...(e.provider.name ? { display: e.provider.name } : {}),
            },
          },
        ],
      });
    }
  }
  return [...seen.values()].sort((a, b) => ((a.performedDateTime ?? '') < (b.performedDateTime ?? '') ? -1 : 1));
}

export function mapEpisodes(episodes: readonly Episode[], patient: PatientKey): Resource[] {
  return [...aggregateDiagnoses(episodes).map((a) => diagnosisCondition(a, patient)), ...episodeProcedures(episodes, patient)];
}

/**
 * Merges registry Conditions for the same code coming from different registries (or sources) into one:
 * earliest first seen, latest last seen, episodes summed, registries and source tags united.
 * Other resources pass through untouched, in their original order.
 */
export function mergeEpisodeConditions(resources: readonly Resource[]): Resource[] {
  const out: Resource[] = [];
  const byCode = new Map<string, number>();
  for (const r of resources) {
    const summary = r.resourceType === 'Condition' ? readEpisodeSummary(r) : undefined;
    const coding = r.resourceType === 'Condition' ? r.code?.coding?.[0] : undefined;
    if (!summary || !coding?.system || !coding.code) {
      out.push(r);
      continue;
    }
    const key = `${coding.system}|${coding.code}`;
    const at = byCode.get(key);
    if (at === undefined) {
      byCode.set(key, out.length);
      out.push(r);
      continue;
    }
    const existing = out[at] as Condition;
    const prior = readEpisodeSummary(existing)!;
    const merged = {
      firstSeen: prior.firstSeen < summary.firstSeen ? prior.firstSeen : summary.firstSeen,
      lastSeen: prior.lastSeen > summary.lastSeen ? prior.lastSeen : summary.lastSeen,
      episodes: prior.episodes + summary.episodes,
      registries: [...new Set([...prior.registries, ...summary.registries])],
    };
    const tags = [...new Set([...sourcesOf(existing), ...sourcesOf(r)])] as SourceName[];
    out[at] = {
      ...existing,
      meta: { ...existing.meta, tag: tags.map(sourceTag) },
      extension: [...(existing.extension ?? []).filter((e) => e.url !== EPISODE_SUMMARY_EXT), episodeSummaryExtension(merged)],
      onsetDateTime: merged.firstSeen,
    };
  }
  return out;
}
