// Runs once per test run, before any worker starts: unpacks the Chromium that @sparticuz/chromium ships
// inside its npm package (to the temp folder, once per machine), so browser tests in parallel workers
// never race to unpack it and no system browser is needed.
import { browserExecutable } from './chromium.ts';

export default async function setup(): Promise<void> {
  await browserExecutable();
}
