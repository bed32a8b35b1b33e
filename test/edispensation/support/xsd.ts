// M10 messages checked against the official eResept 2.5 schemas (MsgHead v1.2 + ER-M10-2013-10-08,
// copied into schemas/kith/) by the shared XSD validator.
import { validateXml, type XsdResult } from '../../support/xsd.ts';

export type { XsdResult };

/** Validates a complete MsgHead document holding an M10. */
export const validateM10 = (xml: string): Promise<XsdResult> => validateXml(xml, 'm10');
