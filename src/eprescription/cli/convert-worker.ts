// A worker thread of the convert-m1 command: loads FEST once, then converts the files the main thread
// sends, one message per file, answering with its FileResult. The outputs go back as UTF-8 bytes whose
// buffers are handed over, not copied; the main thread writes them.
import { parentPort, workerData } from 'node:worker_threads';
import { convertFile, pipelineFor, type ConvertSettings, type FileJob } from './convert-file.ts';

const settings = workerData as ConvertSettings;
const utf8 = new TextEncoder();
const port = parentPort;
if (!port) throw new Error('convert-worker runs as a worker thread');
const deps = await pipelineFor(settings);
port.on('message', (job: FileJob | null) => {
  if (job === null) {
    port.close();
    return;
  }
  void convertFile(job, deps, settings).then((result) => {
    const files = result.files.map(({ path, data }) => ({ path, data: typeof data === 'string' ? utf8.encode(data) : data }));
    port.postMessage({ ...result, files }, files.map((f) => f.data.buffer as ArrayBuffer));
  });
});
port.postMessage('ready');
