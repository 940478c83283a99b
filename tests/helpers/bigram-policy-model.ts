// A tiny Qwen2 checkpoint with the REAL 151936-token vocabulary whose next-token distribution is a
// chosen bigram table: logit(next | current) depends only on the current token. Tests use it to
// give a policy a known, non-trivial starting behaviour (e.g. "refuses 27% of the time") that a
// random-weight model never has, so RL has something to reinforce.
//
// How: o_proj and down_proj are zero, so attention and the MLP add nothing to the residual stream
// and the final hidden state IS the token's embedding. Each token named in the table gets its own
// standard basis vector e_i (unit norm: the final RMSNorm, weight 1, turns it into √H·e_i), and
// lm_head row `next` holds logit/√H at column i for every transition (i → next). Every other
// logit is exactly 0. Other tokens' embeddings are random in columns no table token uses, so they
// predict a flat distribution.
//
// RMSNorm makes logits blind to how far the residual moves ALONG e_i, so a LoRA that wants to
// change a choice needs a direction orthogonal to it: `steer` puts ±weight for chosen rows in one
// spare column that no embedding uses (the base logits are unchanged; a residual pushed along that
// column raises one answer over the other). Gate/up/q/k/v are random, so LoRA on o_proj/down_proj
// (B starts at 0, A random) gets a non-zero gradient from the first step.
import { QWEN_VOCAB_SIZE, tinyConfigJson } from '../../models/tiny-model';
import { bundledTokenizerFiles } from '../../models/tokenizers/bundled';
import { expectedTensors, parseModelConfig, type ModelConfig } from '../../src/hf-io/config';
import { fromFloat32 } from '../../src/hf-io/dtypes';
import { writeSafetensors } from '../../src/hf-io/safetensors-writer';

export interface BigramTransition {
  from: number;
  to: number;
  /** The logit of `to` after `from` (every token without a transition from `from` has logit 0). */
  logit: number;
}

export interface BigramPolicyOptions {
  transitions: readonly BigramTransition[];
  /** Extra weight of these lm_head rows along the spare steering column (see header). */
  steer?: readonly { token: number; weight: number }[];
  hidden?: number;
  layers?: number;
  seed?: number;
}

export interface BigramPolicyModel {
  config: ModelConfig;
  /** config.json, model.safetensors (F32), tokenizer.json, tokenizer_config.json (Qwen2.5). */
  files: Map<string, Uint8Array>;
  /** Column of the hidden state each table token's embedding occupies. */
  column: Map<number, number>;
  steerColumn: number;
}

/** mulberry32 + Box–Muller: the same weights on every platform. */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

export async function makeBigramPolicyModel(options: BigramPolicyOptions): Promise<BigramPolicyModel> {
  const H = options.hidden ?? 32;
  const V = QWEN_VOCAB_SIZE;
  const tokens = [...new Set(options.transitions.map((t) => t.from))];
  // Table tokens, then the steering column, then at least a few columns for everything else.
  if (tokens.length + 4 > H) throw new Error(`bigram model: ${tokens.length} source tokens need hidden ≥ ${tokens.length + 4}, got ${H}`);
  for (const t of options.transitions) {
    for (const id of [t.from, t.to]) if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`bigram model: token id ${id} is outside the vocabulary`);
    if (!Number.isFinite(t.logit)) throw new Error(`bigram model: logit of ${t.from} → ${t.to} must be finite`);
  }
  const column = new Map(tokens.map((id, i) => [id, i]));
  const steerColumn = tokens.length;
  const freeFrom = steerColumn + 1;

  const configJson = {
    ...tinyConfigJson({
      arch: 'qwen2',
      vocab: 'real',
      layers: options.layers ?? 1,
      hidden: H,
      heads: 4,
      kvHeads: 2,
      intermediate: 2 * H,
      tie: false,
      dtype: 'F32',
    }),
  };
  configJson._asp_note = 'bigram test policy: hand-set weights (tests/helpers/bigram-policy-model.ts), not a trained model';
  const config = parseModelConfig(configJson, 'bigram policy config');
  const normal = gaussian(options.seed ?? 1);

  const values = (name: string, shape: number[]): Float32Array => {
    const n = shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (name === 'model.embed_tokens.weight') {
      for (let id = 0; id < V; id++) {
        const col = column.get(id);
        if (col !== undefined) out[id * H + col] = 1;
        else for (let c = freeFrom; c < H; c++) out[id * H + c] = normal();
      }
    } else if (name === 'lm_head.weight') {
      const scale = 1 / Math.sqrt(H);
      for (const t of options.transitions) out[t.to * H + column.get(t.from)!] += t.logit * scale;
      for (const s of options.steer ?? []) out[s.token * H + steerColumn] += s.weight;
    } else if (name.endsWith('norm.weight')) out.fill(1);
    else if (name.endsWith('o_proj.weight') || name.endsWith('down_proj.weight')) out.fill(0);
    else if (name.endsWith('.bias')) for (let i = 0; i < n; i++) out[i] = 0.1 * normal();
    else for (let i = 0; i < n; i++) out[i] = normal() / Math.sqrt(shape[1]);
    return out;
  };
  const tensors = expectedTensors(config).map(({ name, shape }) => ({ name, shape, dtype: 'F32' as const, data: fromFloat32(values(name, shape), 'F32') }));
  const tokenizer = await bundledTokenizerFiles('qwen2.5');
  const enc = new TextEncoder();
  const files = new Map<string, Uint8Array>([
    ['config.json', enc.encode(JSON.stringify(configJson))],
    ['model.safetensors', writeSafetensors(tensors)],
    ['tokenizer.json', enc.encode(JSON.stringify(tokenizer.tokenizerJson))],
    ['tokenizer_config.json', enc.encode(JSON.stringify(tokenizer.tokenizerConfig))],
  ]);
  return { config, files, column, steerColumn };
}

/** The base policy's probability of `next` after `current`, from the table alone (all other logits 0). */
export function bigramProbability(transitions: readonly BigramTransition[], current: number, next: number): number {
  const out = transitions.filter((t) => t.from === current);
  const logitOf = (id: number) => out.filter((t) => t.to === id).reduce((s, t) => s + t.logit, 0);
  const distinct = new Set(out.map((t) => t.to));
  const max = Math.max(0, ...[...distinct].map(logitOf));
  const z = [...distinct].reduce((s, id) => s + Math.exp(logitOf(id) - max), 0) + (QWEN_VOCAB_SIZE - distinct.size) * Math.exp(-max);
  return Math.exp(logitOf(next) - max) / z;
}
