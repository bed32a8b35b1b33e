// Conversion outputs compared across runs: the UUIDs and times each conversion makes afresh are masked, so
// what is left is what the conversion made of the message.
export const stableText = (text: string): string =>
  text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'UUID').replace(/\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})|\d{14}([+-]\d{4})?/g, 'TIME');
