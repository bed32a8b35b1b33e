// One FHIR AuditEvent per request that reads or writes personal data: who (person, organisation, role,
// client application), the patient, what was done, why (purpose of use), the outcome, when, and the request
// id. Pure: the caller supplies the time and the id. Codes follow the FHIR audit value sets, DICOM and
// IHE Basic Audit Log Patterns (BALP), so a generic audit viewer can read the log.
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding, Identifier } from '@medplum/fhirtypes';
import { PURPOSE_OF_USE_SYSTEM, ROLE_SYSTEM } from '../auth/claims.ts';
import type { Principal } from '../auth/principal.ts';
import { HELSEBRO_NS, OID, parsePersonNumber } from '../fhir/identifiers.ts';

export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';
export type AuditOutcome = NonNullable<AuditEvent['outcome']>;
/** FHIR restful-interaction codes Helsebro's routes perform. */
export type AuditInteraction = 'read' | 'vread' | 'search-type' | 'create' | 'update' | 'delete' | 'operation';

/** Identifier system for OAuth client ids in agents. */
export const CLIENT_ID_SYSTEM = `${HELSEBRO_NS}/NamingSystem/oauth-client-id`;

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const AUDIT_EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const PARTICIPATION = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType';
const ROLE_CLASS = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass';
const ROLE_CODE = 'http://terminology.hl7.org/CodeSystem/v3-RoleCode';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';

/** Prefix of agent.network.address for a refused caller: a keyed hash of the source address, never the address. */
export const ADDRESS_HASH_PREFIX = 'urn:helsebro:address-hmac:';

/** Entity detail type naming an access rule that withheld content from the response. */
export const WITHHELD_DETAIL = 'withheld-by-rule';

export interface AuditInput {
  /** Undefined for events with no authenticated caller: Helsebro's own workers, and refused tokens (`anonymous`). */
  principal: Principal | undefined;
  /** A caller refused before authentication: the client its token claims (unverified) and a keyed hash of its address. */
  anonymous?: { claimedClient?: string | undefined; addressHash: string } | undefined;
  /** The patient the data is about, by Helsebro id and/or fødselsnummer (either suffices; both when known). */
  patient?: { id?: string | undefined; fnr?: string | undefined } | undefined;
  /**
   * A patient with no Norwegian key (an EU patient): named by the identifier their prescription carries, so
   * "who looked at this EU patient's prescription" can be answered. Used only when `patient` names no one.
   */
  foreignPatient?: { system?: string | undefined; value: string } | undefined;
  /** Another resource the request concerned (the prescription of a dispensation or an M10), as `Type/id`. */
  related?: string | undefined;
  action: AuditAction;
  /** `rest` for FHIR API requests (the default); `export`/`import` for messages sent to or received from the NCP. */
  event?: 'rest' | 'export' | 'import';
  interaction?: AuditInteraction | undefined;
  /** For interaction `operation`: its name without `$` and its OperationDefinition canonical when it has one. */
  operation?: { name: string; definition?: string | undefined } | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  /** The query string as received (searches); kept base64-encoded in the query entity. */
  query?: string | undefined;
  outcome: AuditOutcome;
  /** Why it failed, for outcomes other than 0. No personal data. */
  outcomeDesc?: string | undefined;
  requestId: string;
  /** Overrides the principal's purpose of use. */
  purposeOfUse?: string | undefined;
  /** Access-rule codes that withheld content from the response. */
  withheld?: readonly string[] | undefined;
  at: Date;
  id?: string | undefined;
  /** Helsebro as the observing system. */
  observer?: { name: string; orgnr?: string | undefined } | undefined;
}

/** Audit outcome from the HTTP status: success, minor failure (the caller's fault), serious failure (ours). */
export function auditOutcomeFromStatus(status: number): AuditOutcome {
  if (status < 400) return '0';
  if (status < 500) return '4';
  return '8';
}

const coding = (system: string, code: string, display?: string): Coding => (display ? { system, code, display } : { system, code });

/** A person number as a FHIR identifier, D-nummer or fødselsnummer by its first digit. */
export function personIdentifier(fnr: string): Identifier {
  return { system: parsePersonNumber(fnr)?.kind === 'dnr' ? OID.dnr : OID.fnr, value: fnr };
}

export function buildAuditEvent(input: AuditInput): AuditEvent {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    ...(input.id ? { id: input.id } : {}),
    type: eventType(input.event ?? 'rest'),
    ...subtype(input),
    action: input.action,
    recorded: input.at.toISOString(),
    outcome: input.outcome,
    ...(input.outcomeDesc ? { outcomeDesc: input.outcomeDesc } : {}),
    ...purposeOfEvent(input),
    agent: agents(input),
    source: {
      observer: { display: input.observer?.name ?? 'Helsebro', ...(input.observer?.orgnr ? { identifier: { system: OID.orgnr, value: input.observer.orgnr } } : {}) },
      type: [coding(SOURCE_TYPE, '4', 'Application Server')],
    },
    entity: entities(input),
  };
  return event;
}

function eventType(kind: 'rest' | 'export' | 'import'): Coding {
  switch (kind) {
    case 'rest':
      return coding(AUDIT_EVENT_TYPE, 'rest', 'RESTful Operation');
    case 'export':
      return coding(DCM, '110106', 'Export');
    case 'import':
      return coding(DCM, '110107', 'Import');
  }
}

function subtype(input: AuditInput): Pick<AuditEvent, 'subtype'> {
  const codes: Coding[] = [];
  if (input.interaction) codes.push(coding(RESTFUL_INTERACTION, input.interaction));
  if (input.operation) {
    codes.push(
      input.operation.definition
        ? { system: 'urn:ietf:rfc:3986', code: input.operation.definition, display: `$${input.operation.name}` }
        : { display: `$${input.operation.name}` },
    );
  }
  return codes.length ? { subtype: codes } : {};
}

function purposeCode(input: AuditInput): string | undefined {
  if (input.purposeOfUse) return input.purposeOfUse;
  const p = input.principal;
  return p && p.kind !== 'citizen' ? p.purposeOfUse : undefined;
}

function purposeOfEvent(input: AuditInput): Pick<AuditEvent, 'purposeOfEvent'> {
  const code = purposeCode(input);
  return code ? { purposeOfEvent: [{ coding: [coding(PURPOSE_OF_USE_SYSTEM, code)] }] } : {};
}

function agents(input: AuditInput): AuditEventAgent[] {
  const p = input.principal;
  const writes = input.action === 'C' || input.action === 'U' || input.action === 'D';
  const purpose = purposeCode(input);
  const purposeOfUse = purpose ? [{ coding: [coding(PURPOSE_OF_USE_SYSTEM, purpose)] }] : undefined;
  const server: AuditEventAgent = {
    type: { coding: [coding(DCM, '110152', 'Destination Role ID')] },
    who: { display: input.observer?.name ?? 'Helsebro' },
    requestor: p === undefined && !input.anonymous,
  };
  if (input.anonymous) {
    const caller: AuditEventAgent = {
      type: { coding: [coding(DCM, '110153', 'Source Role ID')] },
      who: input.anonymous.claimedClient
        ? { identifier: { system: CLIENT_ID_SYSTEM, value: input.anonymous.claimedClient }, display: 'claimed by an unverified token' }
        : { display: 'unauthenticated caller' },
      network: { address: `${ADDRESS_HASH_PREFIX}${input.anonymous.addressHash}`, type: '5' },
      requestor: true,
    };
    return [caller, server];
  }
  if (!p) return [server];

  const client: AuditEventAgent = {
    type: { coding: [coding(DCM, '110153', 'Source Role ID')] },
    who: { identifier: { system: CLIENT_ID_SYSTEM, value: p.clientId }, ...(p.clientName ? { display: p.clientName } : {}) },
    requestor: p.kind === 'system',
    ...(p.kind === 'system' && purposeOfUse ? { purposeOfUse } : {}),
  };
  const organisations = (orgnr: string | undefined, parent: string | undefined): AuditEventAgent[] =>
    [orgnr, parent !== orgnr ? parent : undefined]
      .filter((o): o is string => o !== undefined)
      .map((o) => ({
        type: { coding: [coding(ROLE_CLASS, 'PROV', 'healthcare provider')] },
        who: { identifier: { system: OID.orgnr, value: o } },
        requestor: false,
      }));

  switch (p.kind) {
    case 'clinician': {
      const person: AuditEventAgent = {
        type: { coding: [writes ? coding(PARTICIPATION, 'AUT', 'author (originator)') : coding(PARTICIPATION, 'IRCP', 'information recipient')] },
        role: [{ coding: [coding(ROLE_SYSTEM, p.role)] }],
        who: { identifier: { system: OID.hpr, value: p.hpr }, ...(p.name ? { display: p.name } : {}) },
        altId: p.subject,
        requestor: true,
        ...(purposeOfUse ? { purposeOfUse } : {}),
      };
      return [person, ...organisations(p.orgnr, p.parentOrgnr), client, server];
    }
    case 'citizen': {
      const person: AuditEventAgent = {
        type: { coding: [coding(ROLE_CLASS, 'PAT', 'patient')] },
        ...(p.actingFor
          ? { role: [{ coding: [p.actingFor.relation === 'guardian' ? coding(ROLE_CODE, 'GUARD', 'guardian') : coding(ROLE_CODE, 'POWATT', 'power of attorney')] }] }
          : {}),
        who: { identifier: personIdentifier(p.fnr) },
        altId: p.subject,
        requestor: true,
      };
      return [person, client, server];
    }
    case 'system':
      return [client, ...organisations(p.orgnr, p.parentOrgnr), server];
  }
}

function entities(input: AuditInput): AuditEventEntity[] {
  const out: AuditEventEntity[] = [];
  const patient = input.patient;
  if (patient && (patient.id || patient.fnr)) {
    out.push({
      what: {
        ...(patient.id ? { reference: `Patient/${patient.id}` } : {}),
        ...(patient.fnr ? { identifier: personIdentifier(patient.fnr) } : {}),
      },
      type: coding(ENTITY_TYPE, '1', 'Person'),
      role: coding(OBJECT_ROLE, '1', 'Patient'),
      ...(input.withheld?.length ? { detail: input.withheld.map((code) => ({ type: WITHHELD_DETAIL, valueString: code })) } : {}),
    });
  } else if (input.foreignPatient?.value) {
    const f = input.foreignPatient;
    out.push({
      what: { identifier: { ...(f.system ? { system: f.system } : {}), value: f.value } },
      type: coding(ENTITY_TYPE, '1', 'Person'),
      role: coding(OBJECT_ROLE, '1', 'Patient'),
    });
  }
  if (input.related && input.related !== `${input.resourceType}/${input.resourceId}`) {
    out.push({ what: { reference: input.related }, type: coding(ENTITY_TYPE, '2', 'System Object'), role: coding(OBJECT_ROLE, '4', 'Domain Resource') });
  }
  const samePatient = input.resourceType === 'Patient' && input.resourceId !== undefined && input.resourceId === patient?.id;
  if (input.resourceType && input.resourceId && !samePatient) {
    out.push({
      what: { reference: `${input.resourceType}/${input.resourceId}` },
      type: coding(ENTITY_TYPE, '2', 'System Object'),
      role: coding(OBJECT_ROLE, '4', 'Domain Resource'),
    });
  }
  if (input.query !== undefined) {
    out.push({
      type: coding(ENTITY_TYPE, '2', 'System Object'),
      role: coding(OBJECT_ROLE, '24', 'Query'),
      ...(input.resourceType ? { description: input.resourceType } : {}),
      query: Buffer.from(input.query, 'utf8').toString('base64'),
    });
  }
  out.push({
    what: { identifier: { value: input.requestId } },
    type: coding(BALP_ENTITY_TYPE, 'XrequestId', 'transport specific unique identifier where http X-Request-Id is used'),
  });
  return out;
}

/** The patient keys an AuditEvent is stored and searched under (from its Patient entity). */
export function auditPatientKeys(event: AuditEvent): { id?: string; fnr?: string } {
  const entity = event.entity?.find((e) => e.role?.system === OBJECT_ROLE && e.role.code === '1');
  const ref = entity?.what?.reference;
  const ident = entity?.what?.identifier;
  const id = ref?.startsWith('Patient/') ? ref.slice('Patient/'.length) : undefined;
  const fnr = ident && (ident.system === OID.fnr || ident.system === OID.dnr) ? ident.value : undefined;
  return { ...(id ? { id } : {}), ...(fnr ? { fnr } : {}) };
}
