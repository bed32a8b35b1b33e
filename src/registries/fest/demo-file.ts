// Where the demo FEST catalogue lives. A module of its own, so that code needing only the path (the
// convert-m1 dispatcher, whose worker threads load FEST themselves) does not load the ingest machinery.
import { fileURLToPath } from 'node:url';

export const DEMO_FEST_FILE = fileURLToPath(new URL('./demo-fest-m30.xml', import.meta.url));
