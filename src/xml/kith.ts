// KITH's shared XML datatypes (kith.xsd, felleskomponent1.xsd): coded values (CS/CV), physical
// quantities (PQ), money (MO), timestamps (TS), identifiers, addresses and telecom addresses.
// Readers here know the shapes, not the messages; MsgHead and eResept readers build on them.
import type { XmlElement } from './element.ts';
import { clip, decimal, defined, double, invalidValue, optional, optionalText, repeated, required, requiredText, timestamp } from './read.ts';

export const KITH_NS = {
  felleskomponent1: 'http://www.kith.no/xmlstds/felleskomponent1',
  base64container: 'http://www.kith.no/xmlstds/base64container',
  xmldsig: 'http://www.w3.org/2000/09/xmldsig#',
} as const;

/** A KITH CS (V, DN) or CV (V, S, DN, OT). `oid` is the bare OID as sent, e.g. 2.16.578.1.12.4.1.1.7421. */
export interface Coded {
  code: string;
  oid?: string;
  display?: string;
  originalText?: string;
}

const OID = /^(\d+\.?)*\d+$/;

/** Reads a coded value; the code (V) is required, since Helsebro acts on codes, not on display texts. */
export function coded(el: XmlElement): Coded {
  const code = el.attr('V')?.trim();
  if (!code) throw invalidValue(el, 'the code attribute V is missing or empty');
  const out: Coded = { code };
  const oid = el.attr('S')?.trim();
  if (oid) {
    if (!OID.test(oid)) throw invalidValue(el, `code system S="${clip(oid)}" is not an OID`);
    out.oid = oid;
  }
  const display = el.attr('DN');
  if (display) out.display = display;
  const originalText = el.attr('OT');
  if (originalText) out.originalText = originalText;
  return out;
}

export const optionalCoded = (parent: XmlElement, ns: string, name: string): Coded | undefined => {
  const el = optional(parent, ns, name);
  return el ? coded(el) : undefined;
};

export const requiredCoded = (parent: XmlElement, ns: string, name: string): Coded => coded(required(parent, ns, name));

/** A KITH PQ: value with unit. Units are free text in eResept dosages ("tablett", "ml"). */
export interface Quantity {
  value: number;
  unit?: string;
}

export function quantity(el: XmlElement): Quantity {
  const raw = el.attr('V')?.trim();
  if (!raw) throw invalidValue(el, 'the value attribute V is missing or empty');
  const out: Quantity = { value: double(el, raw) };
  const unit = el.attr('U')?.trim();
  if (unit) out.unit = unit;
  return out;
}

export const optionalQuantity = (parent: XmlElement, ns: string, name: string): Quantity | undefined => {
  const el = optional(parent, ns, name);
  return el ? quantity(el) : undefined;
};

/** A KITH MO: an amount with its currency. */
export interface Money {
  value: number;
  currency?: string;
}

export function money(el: XmlElement): Money {
  const raw = el.attr('V')?.trim();
  if (!raw) throw invalidValue(el, 'the amount attribute V is missing or empty');
  const out: Money = { value: decimal(el, raw) };
  const currency = el.attr('U')?.trim();
  if (currency) out.currency = currency;
  return out;
}

/** A KITH TS: the V attribute holds a date, date-time, year(-month) or time. */
export function ts(el: XmlElement): string {
  const raw = el.attr('V')?.trim();
  if (!raw) throw invalidValue(el, 'the time attribute V is missing or empty');
  return timestamp(el, raw);
}

/** Ident {Id, TypeId}. TypeId is a CV from kodeverk 8116 (persons) or 9051 (organisations). */
export interface Ident {
  id: string;
  type: Coded;
}

/** Reads an Ident whose Id and TypeId children are in namespace `ns` (MsgHead's own, or felleskomponent1). */
export function ident(el: XmlElement, ns: string): Ident {
  return { id: requiredText(el, ns, 'Id'), type: coded(required(el, ns, 'TypeId')) };
}

export interface Address {
  type?: Coded;
  streetAdr?: string;
  postalCode?: string;
  city?: string;
  postbox?: string;
  county?: Coded;
  country?: Coded;
}

export function address(el: XmlElement, ns: string): Address {
  return defined({
    type: optionalCoded(el, ns, 'Type'),
    streetAdr: optionalText(el, ns, 'StreetAdr'),
    postalCode: optionalText(el, ns, 'PostalCode'),
    city: optionalText(el, ns, 'City'),
    postbox: optionalText(el, ns, 'Postbox'),
    county: optionalCoded(el, ns, 'County'),
    country: optionalCoded(el, ns, 'Country'),
  });
}

export interface TeleCom {
  type?: Coded;
  /** URL form, e.g. "tel:22222222" or "mailto:...". */
  address: string;
}

export function telecoms(parent: XmlElement, ns: string): TeleCom[] {
  return repeated(parent, ns, 'TeleCom').map((el) => {
    const addr = required(el, ns, 'TeleAddress');
    const value = addr.attr('V')?.trim();
    if (!value) throw invalidValue(addr, 'the address attribute V is missing or empty');
    const type = optional(el, ns, 'TypeTelecom');
    return type ? { type: coded(type), address: value } : { address: value };
  });
}
