// The trained fixtures (tools/reference/make_trained_fixture.py): their "eval" and
// "python_fake_quant" blocks are well-formed, the CPU reference forward reproduces the f32 top-1
// ids and NLL, and the engine's own q8/q4 packer (src/engine/quant/pack.ts) reproduces what the
// Python fake quantization recorded. No Python, no GPU. (fixtures.test.ts checks the rest of the
// folder: config, tensors, reference.json.)
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel } from '../../src/hf-io/load-model';
import { NodeDirSource } from '../../src/hf-io/node-sources';
import { tensorToFloat32 } from '../../src/hf-io/safetensors';
import { qwenForwardCpu } from '../../src/engine/reference/qwen-cpu';
import { packWeight, unpackWeight } from '../../src/engine/quant/pack';

const ROOT = join(process.cwd(), 'tests', 'fixtures', 'models');
const TRAINED = ['qwen2-tiny-trained', 'qwen3-tiny-trained'];
const EVAL_SEQS = 8;
const EVAL_LEN = 33;

interface EvalBlock {
  sequences: number[][];
  top1: number[][];
  nll_mean: number;
  mean_max_prob: number;
  min_top2_margin: number;
}
interface QuantStats {
  top1_agreement: number;
  nll_mean: number;
}

async function loadFixture(name: string) {
  const model = await loadModel(new NodeDirSource(join(ROOT, name)));
  const weights = new Map<string, { values: Float32Array; shape: number[] }>();
  for (const tensorName of model.checkpoint.names()) {
    const tensor = await model.checkpoint.tensor(tensorName);
    weights.set(tensorName, { values: tensorToFloat32(tensor), shape: tensor.shape });
  }
  const reference = JSON.parse(readFileSync(join(ROOT, name, 'reference.json'), 'utf8'));
  return { config: model.config, weights, reference };
}

type Weights = Map<string, { values: Float32Array; shape: number[] }>;

/** Every 2-D weight (embeddings and lm_head included) through the engine's packer and back. */
function fakeQuantized(weights: Weights, format: 'q8' | 'q4'): Weights {
  const out: Weights = new Map();
  for (const [name, w] of weights) {
    if (w.shape.length !== 2) {
      out.set(name, w);
      continue;
    }
    const [rows, cols] = w.shape;
    out.set(name, { values: unpackWeight(packWeight(w.values, rows, cols, format, name)), shape: w.shape });
  }
  return out;
}

/** Top-1 ids at positions 0..T-2 and the summed next-token NLL of ids[1..T-1]. */
function evaluate(config: Parameters<typeof qwenForwardCpu>[0], weights: Weights, ids: number[]) {
  const lookup = (n: string) => {
    const w = weights.get(n);
    if (!w) throw new Error(`missing tensor ${n}`);
    return w.values;
  };
  const logits = qwenForwardCpu(config, lookup, ids);
  const V = logits.length / ids.length;
  const top1: number[] = [];
  let nll = 0;
  for (let t = 0; t < ids.length - 1; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    let best = 0;
    for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(row[v] - row[best]);
    nll -= row[ids[t + 1]] - row[best] - Math.log(sum);
    top1.push(best);
  }
  return { top1, nll };
}

function evaluateAll(config: Parameters<typeof qwenForwardCpu>[0], weights: Weights, sequences: number[][]) {
  const rows = sequences.map((ids) => evaluate(config, weights, ids));
  const positions = rows.reduce((n, r) => n + r.top1.length, 0);
  return { top1: rows.map((r) => r.top1), nllMean: rows.reduce((s, r) => s + r.nll, 0) / positions };
}

function agreement(a: number[][], b: number[][]): number {
  let same = 0;
  let total = 0;
  a.forEach((row, i) =>
    row.forEach((id, t) => {
      same += id === b[i][t] ? 1 : 0;
      total++;
    }),
  );
  return same / total;
}

describe.each(TRAINED)('%s trained fixture', (name) => {
  const loaded = loadFixture(name);

  it('eval block: 8 distinct in-vocabulary sequences of 33 ids, 32 top-1 ids each, confident predictions', async () => {
    const { config, reference } = await loaded;
    const ev = reference.eval as EvalBlock;
    const inVocab = (id: number) => Number.isInteger(id) && id > 0 && id < config.vocabSize;
    expect(ev.sequences).toHaveLength(EVAL_SEQS);
    expect(new Set(ev.sequences.map((s) => s.join(','))).size, 'sequences are pairwise distinct').toBe(EVAL_SEQS);
    for (const seq of ev.sequences) {
      expect(seq).toHaveLength(EVAL_LEN);
      expect(seq.every(inVocab)).toBe(true);
    }
    expect(ev.top1).toHaveLength(EVAL_SEQS);
    for (const row of ev.top1) {
      expect(row).toHaveLength(EVAL_LEN - 1);
      expect(row.every(inVocab)).toBe(true);
    }
    // What makes this fixture worth having: trained-model confidence, unlike the random fixtures.
    expect(Math.exp(ev.nll_mean), 'perplexity').toBeLessThan(1.5);
    expect(ev.mean_max_prob).toBeGreaterThan(0.8);
    expect(ev.min_top2_margin, 'no eval position is a near-tie in f32').toBeGreaterThan(0.1);
  });

  it('the CPU reference forward reproduces the f32 top-1 ids and mean NLL', async () => {
    const { config, weights, reference } = await loaded;
    const ev = reference.eval as EvalBlock;
    const got = evaluateAll(config, weights, ev.sequences);
    expect(got.top1).toEqual(ev.top1);
    expect(got.nllMean).toBeCloseTo(ev.nll_mean, 4);
  });

  it.each(['q8', 'q4'] as const)('the engine packer in %s reproduces python_fake_quant, and top-1 agreement is >= 98%%', async (format) => {
    const { config, weights, reference } = await loaded;
    const ev = reference.eval as EvalBlock;
    const py = reference.python_fake_quant[format] as QuantStats;
    const got = evaluateAll(config, fakeQuantized(weights, format), ev.sequences);
    const agree = agreement(got.top1, ev.top1);
    expect(agree).toBe(py.top1_agreement);
    expect(got.nllMean).toBeCloseTo(py.nll_mean, 4);
    expect(agree).toBeGreaterThanOrEqual(0.98);
    // Quantization must actually change the model, or the comparison above proves nothing.
    expect(Math.abs(got.nllMean - ev.nll_mean)).toBeGreaterThan(1e-6);
  });
});
