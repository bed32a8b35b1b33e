// The start-up line `npm start` prints: where the server listens and, in demo mode, how to try it. It goes to
// a terminal and often into a log collector, so it names no person: the demo patient by id, never by number.
import { PERSONAS } from './demo/personas.ts';

export function startupBanner(o: { url: string; mode: 'demo' | 'production'; engine: string; seconds: string }): string {
  const head = `Helsebro listening on ${o.url} (${o.mode} mode, ${o.engine} store, ready in ${o.seconds}s). `;
  if (o.mode !== 'demo') return `${head}FHIR base ${o.url}/fhir\n`;
  return (
    `${head}Try: open ${o.url}/view/ or curl -H "Authorization: Bearer $(npx helsebro token --hpr 9144889 --scope user/Patient.rs)" ` +
    `'${o.url}/fhir/Patient/${PERSONAS.ms.id}'\n`
  );
}
