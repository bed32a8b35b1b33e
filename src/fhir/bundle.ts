import type { Bundle, BundleLink, Resource } from '@medplum/fhirtypes';

export interface SearchPage {
  /** Absolute URL of the search without paging parameters. */
  selfUrl: URL;
  total: number;
  count: number;
  offset: number;
  resources: Resource[];
  /** Absolute base for fullUrls, e.g. http://host/fhir */
  baseUrl: string;
  /**
   * For resources this server has no read for (mapped per call from a national source): a urn:uuid
   * fullUrl from their UUID id instead of an http URL that would answer 404.
   */
  notReadable?: boolean;
}

/** A searchset Bundle with self/first/previous/next links computed from offset paging. */
export function searchsetBundle(page: SearchPage): Bundle {
  const link = (relation: string, offset: number): BundleLink => {
    const u = new URL(page.selfUrl);
    u.searchParams.set('_count', String(page.count));
    u.searchParams.set('_offset', String(offset));
    return { relation, url: u.toString() };
  };
  const links: BundleLink[] = [link('self', page.offset), link('first', 0)];
  if (page.offset > 0) links.push(link('previous', Math.max(0, page.offset - page.count)));
  if (page.count > 0 && page.offset + page.count < page.total) links.push(link('next', page.offset + page.count));
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: page.total,
    link: links,
    entry: page.resources.map((resource) => ({
      fullUrl: page.notReadable ? `urn:uuid:${resource.id}` : `${page.baseUrl}/${resource.resourceType}/${resource.id}`,
      resource,
      search: { mode: 'match' },
    })),
  };
}
