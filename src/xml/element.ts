// The namespace-resolved element tree every XML reader in Helsebro works on. Elements are
// addressed by (namespace URI, local name), never by prefix, so a sender may pick any prefix or
// a default namespace. Repeatable elements are always lists: `all()` returns an array even for one.

export interface XmlAttribute {
  /** Namespace URI of the attribute; '' for an unprefixed attribute (the usual case). */
  readonly ns: string;
  readonly name: string;
  readonly value: string;
}

/**
 * The path suffix of each of a list of sibling names: `[i]` on every occurrence of a name that repeats
 * among them, nothing on a name that occurs once. Every builder of the tree (the parser, the writer's
 * checked copy) names paths with it, so a path reads the same however the tree was made.
 */
export function siblingSuffixes(names: readonly string[]): string[] {
  if (names.length < 2) return names.map(() => '');
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const seen = new Map<string, number>();
  return names.map((n) => {
    if (counts.get(n) === 1) return '';
    const i = seen.get(n) ?? 0;
    seen.set(n, i + 1);
    return `[${i}]`;
  });
}

export class XmlElement {
  readonly ns: string;
  readonly name: string;
  /** Where the element sits, for error messages: local names joined by '.', `[i]` on repeated siblings. */
  readonly path: string;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly XmlElement[];
  /** Character data directly inside the element (CDATA included), untrimmed. */
  readonly rawText: string;

  constructor(init: {
    ns: string;
    name: string;
    path: string;
    attributes: readonly XmlAttribute[];
    children: readonly XmlElement[];
    rawText: string;
  }) {
    this.ns = init.ns;
    this.name = init.name;
    this.path = init.path;
    this.attributes = init.attributes;
    this.children = init.children;
    this.rawText = init.rawText;
  }

  is(ns: string, name: string): boolean {
    return this.ns === ns && this.name === name;
  }

  /** First child with this namespace and local name. */
  child(ns: string, name: string): XmlElement | undefined {
    return this.children.find((c) => c.ns === ns && c.name === name);
  }

  /** Every child with this namespace and local name, in document order. */
  all(ns: string, name: string): XmlElement[] {
    return this.children.filter((c) => c.ns === ns && c.name === name);
  }

  /** Trimmed text content; '' for an empty element. */
  get text(): string {
    return this.rawText.trim();
  }

  /** Unprefixed attribute by name (KITH's V, S, DN, OT, U ...), or a namespaced one when ns is given. */
  attr(name: string, ns = ''): string | undefined {
    return this.attributes.find((a) => a.ns === ns && a.name === name)?.value;
  }

  /** Path of a child that is not there, for "missing element" messages. */
  pathOf(name: string): string {
    return `${this.path}.${name}`;
  }
}
