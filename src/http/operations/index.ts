// Every custom operation's definition, by id (`{resource}-{code}`, the id the CapabilityStatement names).
import type { HelsebroOperationDefinition } from './definition.ts';
import { discardOperation } from './medication-dispense-discard.ts';
import { importDispensationCdaOperation } from './medication-dispense-import-ehdsi-cda.ts';
import { importM10Operation } from './medication-dispense-import-m10.ts';
import { m10Operation } from './medication-dispense-m10.ts';
import { outboxRetryOperation } from './medication-dispense-outbox-retry.ts';
import { outboxStatusOperation } from './medication-dispense-outbox-status.ts';
import { prescriptionCdaOperation } from './medication-request-ehdsi-cda.ts';
import { importEuPrescriptionCdaOperation } from './medication-request-import-ehdsi-cda.ts';
import { importM1Operation } from './medication-request-import-m1.ts';
import { ehdsiPsOperation } from './patient-ehdsi-ps.ts';

export const CUSTOM_OPERATIONS: ReadonlyMap<string, HelsebroOperationDefinition> = new Map(
  [
    importM1Operation,
    importEuPrescriptionCdaOperation,
    prescriptionCdaOperation,
    importDispensationCdaOperation,
    importM10Operation,
    discardOperation,
    m10Operation,
    outboxStatusOperation,
    outboxRetryOperation,
    ehdsiPsOperation,
  ].map((d) => [d.id, d]),
);
