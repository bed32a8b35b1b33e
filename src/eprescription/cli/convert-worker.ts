// A worker thread of the convert-m1 command: loads FEST once, then converts the files the main thread
// sends, one message per file, answering with its FileResult.
import { parentPort, workerData } from 'node:worker_threads';
import { convertFile, pipelineFor, type ConvertSettings, type FileJob } from './convert-file.ts';

const settings = workerData as ConvertSettings;
const port = parentPort;
if (!port) throw new Error('convert-worker runs as a worker thread');
const deps = await pipelineFor(settings);
port.on('message', (job: FileJob | null) => {
  if (job === null) {
    port.close();
    return;
  }
  void convertFile(job, deps, settings).then((result) => port.postMessage(result));
});
port.postMessage('ready');
