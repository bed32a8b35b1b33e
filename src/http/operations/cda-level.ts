// The `level` of an eHDSI CDA operation ($ehdsi-ps, $ehdsi-cda): 3 (structured, the default) or 1 (a PDF
// in a nonXMLBody). One reader, so both operations accept and refuse the same values.
import { badRequest, type Problem } from '../../fhir/outcomes.ts';

export function cdaLevel(raw: string | undefined): 1 | 3 | Problem {
  if (raw === undefined || raw === '3') return 3;
  if (raw === '1') return 1;
  return badRequest('level must be 1 (PDF in a nonXMLBody) or 3 (structured)', { expression: ['level'] });
}
