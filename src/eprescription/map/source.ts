// Where a mapping-table row takes its value from: a path in the message (resolved on the namespace-resolved
// element tree by local names, exactly as the table writes it), a field of an enrichment source (FEST, HPR,
// the population registry), the conversion context, or a constant. Pure.
import type { XmlElement } from '../../xml/element.ts';
import type { MappingRow } from '../../mappings/table.ts';

/** One value a source yields. `index` places it in a repeating target (the n-th dose, ingredient ...). */
export type SourceValue =
  | { kind: 'element'; el: XmlElement; ancestors: readonly XmlElement[] }
  | { kind: 'attribute'; value: string; el: XmlElement }
  | { kind: 'data'; value: unknown; index?: number }
  | { kind: 'constant'; value: string };

export interface SourceData {
  /** MsgHead, the root of the message. */
  root: XmlElement;
  /** The payload root the table's `Resept/...` (or `Utleveringsrapport/...`) paths start at. */
  payload: XmlElement;
  fest?: unknown;
  hpr?: unknown;
  registry?: unknown;
  context: Readonly<Record<string, unknown>>;
}

type Step = { names: ReadonlySet<string> } | { attribute: string };

const compiled = new Map<string, Step[]>();

function compile(path: string): Step[] {
  const hit = compiled.get(path);
  if (hit) return hit;
  const steps: Step[] = path.split('/').map((seg) => {
    if (seg.startsWith('@')) return { attribute: seg.slice(1) };
    const names = seg.startsWith('(') ? seg.slice(1, -1).split('|') : [seg];
    return { names: new Set(names) };
  });
  compiled.set(path, steps);
  return steps;
}

/** Every element (or attribute value) a message path reaches, in document order. */
export function resolveMessagePath(path: string, data: Pick<SourceData, 'root' | 'payload'>): SourceValue[] {
  const steps = compile(path);
  const first = steps[0];
  if (!first || !('names' in first)) return [];
  const start = first.names.has(data.root.name) ? data.root : first.names.has(data.payload.name) ? data.payload : undefined;
  if (!start) return [];
  // Plain loops: this runs for every message row of both tables on every conversion. Siblings share one
  // (read-only) ancestors array.
  let current: { el: XmlElement; ancestors: readonly XmlElement[] }[] = [{ el: start, ancestors: [] }];
  for (let s = 1; s < steps.length; s++) {
    const step = steps[s]!;
    if ('attribute' in step) {
      const values: SourceValue[] = [];
      for (const { el } of current) {
        const value = el.attr(step.attribute);
        if (value !== undefined) values.push({ kind: 'attribute', value, el });
      }
      return values;
    }
    const next: typeof current = [];
    for (const { el, ancestors } of current) {
      let below: readonly XmlElement[] | undefined;
      for (const c of el.children) if (step.names.has(c.name)) next.push({ el: c, ancestors: (below ??= [...ancestors, el]) });
    }
    if (!next.length) return [];
    current = next;
  }
  return current.map(({ el, ancestors }) => ({ kind: 'element' as const, el, ancestors }));
}

/**
 * A field path into plain data (`package.amount`, `ingredients[].strength`). A `[]` step spreads an array
 * into one value per item, carrying the item's index; an array reached without `[]` is one value.
 */
export function resolveDataPath(path: string, data: unknown): SourceValue[] {
  let current: { value: unknown; index?: number }[] = [{ value: data }];
  for (const raw of path.split('.')) {
    const spread = raw.endsWith('[]');
    const key = spread ? raw.slice(0, -2) : raw;
    const next: { value: unknown; index?: number }[] = [];
    for (const { value, index } of current) {
      if (value === null || typeof value !== 'object') continue;
      const field = (value as Record<string, unknown>)[key];
      if (field === undefined || field === null) continue;
      if (spread) {
        if (!Array.isArray(field)) continue;
        field.forEach((item, i) => next.push({ value: item, index: i }));
      } else {
        next.push(index === undefined ? { value: field } : { value: field, index });
      }
    }
    current = next;
  }
  return current
    .filter(({ value }) => value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0) && value !== '')
    .map(({ value, index }) => (index === undefined ? { kind: 'data' as const, value } : { kind: 'data' as const, value, index }));
}

export function resolveSource(row: MappingRow, data: SourceData): SourceValue[] {
  switch (row.sourceKind) {
    case 'constant':
      return [{ kind: 'constant', value: row.sourcePath }];
    case 'message':
      return resolveMessagePath(row.sourcePath, data);
    case 'fest':
      return data.fest === undefined ? [] : resolveDataPath(row.sourcePath, data.fest);
    case 'hpr':
      return data.hpr === undefined ? [] : resolveDataPath(row.sourcePath, data.hpr);
    case 'registry':
      return data.registry === undefined ? [] : resolveDataPath(row.sourcePath, data.registry);
    case 'context':
      return resolveDataPath(row.sourcePath, data.context);
  }
}
