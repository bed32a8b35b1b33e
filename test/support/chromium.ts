// Where the test browser comes from: CHROMIUM_PATH when set (to try another build), else the headless
// Chromium that `npm ci` brings in @sparticuz/chromium, so the suite runs the same on a bare machine.
import sparticuz from '@sparticuz/chromium';

export async function browserExecutable(): Promise<string> {
  return process.env.CHROMIUM_PATH ?? (await sparticuz.executablePath());
}
