// The bench page (bench.html): a form, a progress line and the report as JSON text. No GPU code
// here: workers/bench.worker.ts owns the device and runs the measuring core.
import { BENCH_SHAPES, benchDefaults, benchSettingsProblems, parseBatchList, type BenchSettings } from '../engine/bench/bench-options';
import type { BenchProgress } from '../engine/bench/run-bench';
import { WEIGHT_FORMATS, type WeightFormat } from '../engine/quant/formats';
import type { ModelShapeName } from '../../models/shapes';
import type { BenchWorkerMessage, BenchWorkerRequest } from './messages';
import '../app/styles.css';

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`bench.html has no #${id}`);
  return found as T;
}

const form = element<HTMLFormElement>('bench-form');
const shape = element<HTMLSelectElement>('bench-shape');
const quant = element<HTMLSelectElement>('bench-quant');
const batches = element<HTMLInputElement>('bench-batches');
const prompt = element<HTMLInputElement>('bench-prompt');
const decode = element<HTMLInputElement>('bench-decode');
const bandwidth = element<HTMLInputElement>('bench-bandwidth');
const run = element<HTMLButtonElement>('bench-run');
const problem = element<HTMLParagraphElement>('bench-problem');
const progress = element<HTMLParagraphElement>('bench-progress');
const adapterLine = element<HTMLParagraphElement>('bench-adapter');
const result = element<HTMLPreElement>('bench-result');
const copy = element<HTMLButtonElement>('bench-copy');
const copyStatus = element<HTMLSpanElement>('bench-copy-status');

for (const name of BENCH_SHAPES) shape.add(new Option(name, name));
for (const format of WEIGHT_FORMATS) quant.add(new Option(format, format));

function showDefaults(settings: BenchSettings) {
  shape.value = settings.shape;
  quant.value = settings.format;
  batches.value = settings.batches.join(',');
  prompt.value = String(settings.promptTokens);
  decode.value = String(settings.decodeTokens);
}
showDefaults(benchDefaults(true));

function readForm(): BenchSettings {
  return {
    shape: shape.value as ModelShapeName,
    format: quant.value as WeightFormat,
    batches: parseBatchList(batches.value),
    promptTokens: Number(prompt.value),
    decodeTokens: Number(decode.value),
    bandwidthGbps: bandwidth.value.trim() === '' ? undefined : Number(bandwidth.value),
  };
}

function showProblem(text: string | undefined) {
  problem.hidden = !text;
  problem.textContent = text ?? '';
}

function describeProgress(p: BenchProgress): string {
  switch (p.phase) {
    case 'upload':
      return `Uploading random weights: ${p.done} of ${p.total} tensors`;
    case 'warm-up':
      return `Warming up batch ${p.batch} (compiling pipelines)…`;
    case 'run':
      return `Measuring batch ${p.batch} (${p.index + 1} of ${p.count})…`;
  }
}

const worker = new Worker(new URL('../../workers/bench.worker.ts', import.meta.url), { type: 'module' });
const send = (request: BenchWorkerRequest) => worker.postMessage(request);
let running = false;

worker.onmessage = (e: MessageEvent<BenchWorkerMessage>) => {
  const message = e.data;
  switch (message.type) {
    case 'adapter':
      adapterLine.textContent = `Adapter: ${message.description}${message.isSoftware ? ' (software renderer: use the tiny shape)' : ''}`;
      if (!running) showDefaults(benchDefaults(message.isSoftware));
      return;
    case 'progress':
      progress.textContent = describeProgress(message.progress);
      return;
    case 'result':
      finish();
      progress.textContent = 'Done.';
      result.textContent = JSON.stringify(message.report, null, 2);
      copy.disabled = false;
      return;
    case 'error':
      if (message.during === 'probe') {
        adapterLine.textContent = `No GPU for the benchmark: ${message.message}`;
        return;
      }
      finish();
      progress.textContent = 'Failed.';
      showProblem(message.message);
      return;
  }
};
worker.onerror = (e) => {
  finish();
  showProblem(`the benchmark worker failed: ${e.message}`);
};

function finish() {
  running = false;
  run.disabled = false;
}

form.addEventListener('submit', (e) => {
  e.preventDefault(); // the CSP forbids form submission; the worker does the work
  const settings = readForm();
  const problems = benchSettingsProblems(settings);
  showProblem(problems.length > 0 ? problems.join('; ') : undefined);
  if (problems.length > 0 || running) return;
  running = true;
  run.disabled = true;
  copy.disabled = true;
  copyStatus.textContent = '';
  result.textContent = '';
  progress.textContent = 'Starting…';
  send({ type: 'run', settings });
});

copy.addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(result.textContent ?? '');
    copyStatus.textContent = 'Copied.';
  } catch (err) {
    copyStatus.textContent = `Could not copy (${(err as Error).message}): select the text below instead.`;
  }
});

send({ type: 'probe' });
