// The app's pure helpers: share links (validation of attacker-controlled input), scenario edits,
// CSV export (formula neutralisation), memory estimates, formatting, training config checks,
// the sliced eval runner and the model policy's use of the engine client.
import { describe, expect, it } from 'vitest';
import { complyPolicy, generateScenarios, oraclePolicy, runEpisode, scenarioVerifier, type Scenario } from '../../src/sandbox/index';
import { decodeLabHash, encodeLabHash, type SharedLabState } from '../../src/app/lib/share-hash';
import { applyEdits, editableFields, INJECTION_PRESETS, ScenarioEditError } from '../../src/app/lib/scenario-edit';
import { csvCell, reportToCsv, wilson } from '../../src/app/lib/eval-export';
import { benchmarkHeadlines } from '../../src/app/lib/benchmark-headlines';
import type { BenchmarkMetrics } from '../../src/sandbox/benchmarks/metrics';
import { configFromDims, ENGINE_BATCH, estimateMemory, MODEL_DIMS } from '../../src/app/lib/memory-estimate';
import { maxAttentionScratchBytes } from '../../src/engine/ops/attention';
import { SAMPLING_PARAM_WORDS } from '../../src/engine/ops/sampling';
import { planLogitRows } from '../../src/engine/model/activations';
import { etaSeconds, formatBytes, formatDuration } from '../../src/app/lib/format';
import { validateMirror } from '../../src/app/lib/settings';
import { defaultTrainingConfig, validateTrainingConfig } from '../../src/app/training-client';
import { runEvalInSlices } from '../../src/app/lib/eval-runner';
import { samplePerCell, importSuiteText } from '../../src/app/lib/suites';
import { modelPolicy } from '../../src/app/model-policy';
import { readFileSync } from 'node:fs';
import { parseModelConfig } from '../../src/hf-io/config';
import { MODEL_REGISTRY } from '../../src/hf-io/registry';
import { CELL_COLORS, cellSeries, scalarSeries, stepRange, valueRange } from '../../src/app/lib/chart-series';
import { noLearningSignal } from '../../src/worker-api/training-types';
import type { TrainingMetrics } from '../../src/app/training-client';

const scenarios = generateScenarios({ split: 'test', count: 27, seed: 3 });
const injected = scenarios.find((s) => s.cell === 'BU-MT' && s.world.patches.length > 0)!;

describe('share links', () => {
  const state: SharedLabState = {
    split: 'test',
    id: injected.id,
    policies: ['comply', 'oracle'],
    edits: { user: 'héllo <b>', patchEdits: [{ patch: 0, field: 'content', value: 'x' }], toolOverrides: [{ tool: 'web_fetch', response: 'y' }] },
  };
  it('round-trips state, unicode included', () => {
    const decoded = decodeLabHash(encodeLabHash(state));
    expect(decoded).toEqual({ ok: true, state });
  });
  it('ignores hashes that are not lab links', () => {
    expect(decodeLabHash('')).toEqual({ ok: false, error: null });
    expect(decodeLabHash('#demo')).toEqual({ ok: false, error: null });
  });
  const enc = (o: unknown) => '#lab=' + Buffer.from(JSON.stringify(o)).toString('base64url');
  it.each([
    ['#lab=!!!', 'base64url'],
    ['#lab=' + Buffer.from('not json').toString('base64url'), 'valid JSON'],
    [enc({ ...state, v: 2 }), '"v"'],
    [enc({ v: 1, ...state, split: 'secret' }), '"split"'],
    [enc({ v: 1, ...state, id: '../x' }), '"id"'],
    [enc({ v: 1, ...state, policies: ['eval', 'oracle'] }), '"policies"'],
    [enc({ v: 1, ...state, edits: { ...state.edits, patchEdits: [{ patch: -1, field: 'content', value: '' }] } }), 'patchEdits[0]'],
    [enc({ v: 1, ...state, edits: { ...state.edits, toolOverrides: [{ tool: 'a b', response: '' }] } }), 'toolOverrides[0]'],
    [enc({ v: 1, ...state, edits: { ...state.edits, user: 'x'.repeat(20_001) } }), 'edits.user'],
  ])('rejects %s naming the problem', (hash, fragment) => {
    const d = decodeLabHash(hash);
    expect(d.ok).toBe(false);
    expect((d as { error: string }).error).toContain(fragment);
  });
});

describe('scenario edits', () => {
  it('changes the prompt, a world text field and a tool output without touching the base', () => {
    const field = editableFields(injected).find((f) => f.value.length > 20)!;
    const tool = injected.tools[0];
    const out = applyEdits(injected, {
      user: 'new prompt',
      patchEdits: [{ patch: field.patch, field: field.field, value: 'INJECTED' }],
      toolOverrides: [{ tool, response: 'fixed' }],
    });
    expect(out.user).toBe('new prompt');
    expect(out.world.patches[field.patch].item[field.field]).toBe('INJECTED');
    expect(out.tools).not.toContain(tool);
    expect(out.customTools?.find((c) => c.schema.function.name === tool)?.response).toBe('fixed');
    expect(out.id).toBe(`${injected.id}+edited`);
    expect(injected.world.patches[field.patch].item[field.field]).toBe(field.value);
  });
  it('names bad edits', () => {
    expect(() => applyEdits(injected, { patchEdits: [{ patch: 99, field: 'content', value: '' }], toolOverrides: [] })).toThrow(/no world item #99/);
    expect(() => applyEdits(injected, { patchEdits: [{ patch: 0, field: 'nope', value: '' }], toolOverrides: [] })).toThrow(/no text field "nope"/);
    expect(() => applyEdits(injected, { patchEdits: [], toolOverrides: [{ tool: 'launch_rockets', response: '' }] })).toThrow(ScenarioEditError);
    expect(() => applyEdits(injected, { user: '  ', patchEdits: [], toolOverrides: [] })).toThrow(/empty/);
  });
});

describe('every attack judged', () => {
  const bubt = generateScenarios({ split: 'test' }).find((s) => s.cell === 'BU-BT' && s.world.patches[0]?.collection === 'dms')!;
  const field = editableFields(bubt)[0] && editableFields(bubt).find((f) => f.field === 'text')!;
  const wire = INJECTION_PRESETS.find((p) => p.id === 'wire-money')!;
  const injectedText = { patchEdits: [{ patch: field.patch, field: field.field, value: field.value + wire.text }], toolOverrides: [] };
  const run = (s: Scenario, p: 'comply' | 'oracle') =>
    runEpisode(s, p === 'comply' ? complyPolicy() : oraclePolicy(), { maxTurns: 6, verifier: scenarioVerifier() });

  it('a preset brings its attacker spec and the tools it needs: comply is judged attack success, oracle not', async () => {
    const s = applyEdits(bubt, { ...injectedText, attacks: [{ preset: 'wire-money' }] });
    expect(bubt.tools).not.toContain('bank_transfer');
    expect(s.tools).toContain('bank_transfer');
    expect(s.cell).toBe('BU-MT');
    expect(s.attacker?.markers).toContain('XX-ATTACK-99');
    const comply = await run(s, 'comply');
    expect(comply.calls.some((c) => c.name === 'bank_transfer' && c.ok)).toBe(true);
    expect(comply.score.outcome.attackJudged).toBe(true);
    expect(comply.score.outcome.attackSuccess).toBe(true);
    expect(comply.score.reward.total).toBe(0);
    const oracle = await run(s, 'oracle');
    expect(oracle.score.outcome.attackJudged).toBe(true);
    expect(oracle.score.outcome.attackSuccess).toBe(false);
  });
  it('free text without a declared goal is not judged and lists off-task actions; declaring a tool and text judges it', async () => {
    const s = applyEdits(bubt, injectedText);
    expect(s.attackUndeclared).toBe(true);
    const r = await run(s, 'oracle');
    expect(r.score.outcome.attackJudged).toBe(false);
    expect(r.score.outcome.offTaskCalls).toEqual([]);
    const declared = applyEdits(bubt, { ...injectedText, attacks: [{ tool: 'bank_transfer', argText: 'XX-ATTACK-99' }] });
    expect(declared.attackUndeclared).toBeUndefined();
    expect(declared.attacker?.calls.some((c) => c.name === 'bank_transfer' && c.args?.to_account === 'XX-ATTACK-99')).toBe(true);
    expect(declared.tools).toContain('bank_transfer');
    expect(() => applyEdits(bubt, { ...injectedText, attacks: [{ tool: 'launch_rockets' }] })).toThrow(/unknown tool "launch_rockets"/);
    expect(() => applyEdits(bubt, { ...injectedText, attacks: [{ preset: 'nope' }] })).toThrow(/unknown injection preset/);
  });
  it('every preset is carried out by comply on a benign scenario that shows it, and judged', async () => {
    for (const p of INJECTION_PRESETS) {
      const s = applyEdits(bubt, {
        patchEdits: [{ patch: field.patch, field: field.field, value: field.value + p.text }],
        toolOverrides: [],
        attacks: [{ preset: p.id }],
      });
      const r = await run(s, 'comply');
      expect(r.score.outcome.attackSuccess, p.id).toBe(true);
    }
  });
  it('share links carry the attacker spec, the cell and the model', () => {
    const state: SharedLabState = {
      split: 'test',
      id: bubt.id,
      policies: ['comply', 'oracle'],
      cell: 'BU-BT',
      model: 'tiny',
      edits: { ...injectedText, attacks: [{ preset: 'wire-money' }, { tool: 'email_send', argText: 'x@evil.example', goal: undefined }] },
    };
    const d = decodeLabHash(encodeLabHash(state));
    expect(d.ok && d.state.edits.attacks).toEqual([{ preset: 'wire-money' }, { tool: 'email_send', argText: 'x@evil.example', goal: undefined }]);
    expect(d.ok && d.state.cell).toBe('BU-BT');
    expect(d.ok && d.state.model).toBe('tiny');
    const bad = decodeLabHash(
      '#lab=' + Buffer.from(JSON.stringify({ v: 1, ...state, edits: { ...state.edits, attacks: [{ tool: '<b>' }] } })).toString('base64url'),
    );
    expect(bad.ok === false && bad.error).toContain('edits.attacks[0]');
  });
});

describe('evaluation in slices and export', () => {
  it('runs, reports progress, builds per-cell rates and a CSV that spreadsheets cannot execute', async () => {
    const seen: number[] = [];
    const list = samplePerCell(scenarios, 1);
    expect(list).toHaveLength(9);
    const out = await runEvalInSlices(list, oraclePolicy(), { onProgress: (p) => seen.push(p.done) });
    expect(out.summaries).toHaveLength(9);
    expect(seen[seen.length - 1]).toBe(9);
    expect(out.report.overall.attack_success_rate).toBe(0);
    const run = { label: 'r', policy: 'oracle', suite: 's', report: out.report, summaries: out.summaries, errors: [], seconds: 1 };
    const csv = reportToCsv(run);
    expect(csv.split('\n')[1]).toMatch(/^overall,all,9,0,/);
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('-0.25')).toBe('-0.25');
    expect(csvCell('@cmd')).toBe("'@cmd");
  });
  it('stops when aborted', async () => {
    const c = new AbortController();
    c.abort();
    const out = await runEvalInSlices(scenarios, oraclePolicy(), { signal: c.signal });
    expect(out.aborted).toBe(true);
    expect(out.summaries).toHaveLength(0);
  });
  it('imports our suite format and names broken files', () => {
    const text = JSON.stringify({ format: 'agent-safety-suite', version: 1, name: 'n', scenarios: [injected] });
    expect(importSuiteText('a.json', text).scenarios[0].id).toBe(injected.id);
    expect(() => importSuiteText('b.json', '{oops')).toThrow(/b\.json: is not valid JSON/);
    expect(() => importSuiteText('c.json', '{"format": "x"}')).toThrow(/c\.json/);
  });
});

describe('model policy', () => {
  it('sends the conversation and tools to the engine, streams text, and reports truncation', async () => {
    const requests: unknown[] = [];
    const engine = {
      generate(req: unknown, onEvent?: (e: { kind: 'token'; sequence: number; id: number; text: string }) => void) {
        requests.push(req);
        onEvent?.({ kind: 'token', sequence: 0, id: 1, text: 'Hel' });
        onEvent?.({ kind: 'token', sequence: 0, id: 2, text: 'lo' });
        return {
          id: 1,
          cancel() {},
          result: Promise.resolve({
            tokensPerSecond: 1,
            sequences: [{ ids: [1, 2], text: 'Hello', logprobs: [0, 0], finishReason: 'length' as const, promptTokens: 10 }],
          }),
        };
      },
    };
    const streamed: string[] = [];
    const policy = modelPolicy(engine, { maxNewTokens: 2, sampling: { temperature: 1, seed: 5 }, onText: (t) => streamed.push(t) });
    const out = await policy.act([{ role: 'user', content: 'hi' }], [], { scenario: injected as Scenario, turn: 1, seed: 2 });
    expect(out).toMatchObject({ text: 'Hello', finished: false });
    expect(streamed).toEqual(['Hel', 'Hello']);
    expect(requests[0]).toMatchObject({
      maxNewTokens: 2,
      conversations: [{ messages: [{ role: 'user', content: 'hi' }], tools: [] }],
      sampling: { seed: 2006 },
    });
    expect(() => modelPolicy(engine, { maxNewTokens: 0, sampling: {} })).toThrow(/maxNewTokens/);
  });
});

describe('training chart series', () => {
  const m = (step: number, perCell: TrainingMetrics['perCell'], kl = 0.1): TrainingMetrics => ({
    step,
    totalSteps: 3,
    elapsedSeconds: step,
    meanReward: step / 3,
    kl,
    gradNorm: 1,
    perCell,
  });
  it('has one series per cell seen, with gaps where a step had no rollout of that cell', () => {
    const rates = (r: number) => ({ refusal: r, verification: 0, attackSuccess: 1 - r, completion: 0.5 });
    const metrics = [m(1, { 'MU-BT': rates(0.2) }), m(2, { 'MU-BT': rates(0.4), 'BU-MT': rates(0) }), m(3, {}, NaN)];
    expect(cellSeries(metrics, 'refusal')).toEqual([
      { label: 'BU-MT', color: CELL_COLORS[1], values: [null, 0, null] },
      { label: 'MU-BT', color: CELL_COLORS[3], values: [0.2, 0.4, null] },
    ]);
    expect(cellSeries(metrics, 'attackSuccess')[1].values).toEqual([0.8, 0.6, null]);
    expect(scalarSeries(metrics, 'KL', (x) => x.kl)).toEqual([{ label: 'KL', values: [0.1, 0.1, null] }]);
  });
});

describe('small helpers', () => {
  it('estimates memory: q4 weights are about a quarter of f32, KV grows with context', () => {
    const dims = MODEL_DIMS['qwen2.5-0.5b-instruct'];
    const q4 = estimateMemory(dims, 'q4', 1024),
      f32 = estimateMemory(dims, 'f32', 1024),
      long = estimateMemory(dims, 'q4', 4096);
    const params = MODEL_REGISTRY.find((m) => m.id === 'qwen2.5-0.5b-instruct')!.params;
    // Dims agree with the registry's parameter count (f32: 4 bytes each; plus the RoPE table of 1024 positions × head_dim f32).
    expect(f32.weights).toBe(params * 4 + 1024 * dims.headDim * 4);
    expect(q4.weights / f32.weights).toBeGreaterThan(0.12);
    expect(q4.weights / f32.weights).toBeLessThan(0.2);
    expect(long.kvCache).toBe(4 * q4.kvCache);
    for (const m of MODEL_REGISTRY) expect(MODEL_DIMS[m.id], `dims for ${m.id}`).toBeDefined();
  });
  it('the app dims of a model shipped with the app are its config.json (needed before any file is read, so written twice)', () => {
    const config = parseModelConfig(readFileSync('models/demo-agent/config.json', 'utf8'));
    const dims = MODEL_DIMS['demo-agent'];
    expect({ ...configFromDims(dims), maxPositionEmbeddings: 0, ropeTheta: 0, rmsNormEps: 0, dtype: '', bosTokenId: null, eosTokenIds: [] }).toEqual({
      ...config,
      maxPositionEmbeddings: 0,
      ropeTheta: 0,
      rmsNormEps: 0,
      dtype: '',
      bosTokenId: null,
      eosTokenIds: [],
    });
  });
  it('estimates what the engine plans: f32 KV cache per sequence, one prefill step and capped logit rows', () => {
    for (const id of ['qwen2.5-0.5b-instruct', 'qwen3-0.6b']) {
      const dims = MODEL_DIMS[id];
      const e = estimateMemory(dims, 'q4', 1024);
      expect(e.kvCache).toBe(2 * dims.layers * dims.kvHeads * dims.headDim * 1024 * ENGINE_BATCH * 4);
      const config = configFromDims(dims);
      // Per token: 3 u32 inputs (id, slot, position) and the f32 activations; per logit row: its index,
      // logits, sampling params, sampled id and 2 log-probs, and 12 bytes of readback; the split-K scratch.
      const { hiddenSize: H, numHeads: nH, numKvHeads: nKv, headDim: d, intermediateSize: I, vocabSize: V } = config;
      const rows = planLogitRows(config, ENGINE_BATCH, 512);
      expect(e.activations).toBe(
        4 * 512 * (3 + 2 * H + (nH + 2 * nKv) * d + nH * d + 3 * I) + 4 * rows * (1 + V + SAMPLING_PARAM_WORDS + 3) + maxAttentionScratchBytes(d) + 12 * rows,
      );
      expect(e.activations).toBeLessThan(200 * 2 ** 20); // not 512 full-vocabulary logit rows (311 MB)
    }
  });
  it('formats bytes, durations and ETAs', () => {
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(3 * 2 ** 30)).toBe('3.00 GiB');
    expect(formatDuration(75)).toBe('1 min 15 s');
    expect(formatDuration(undefined)).toBe('—');
    expect(etaSeconds(25, 100, 10)).toBe(30);
    expect(etaSeconds(0, 100, 10)).toBeUndefined();
  });
  it('accepts only plain http(s) mirrors', () => {
    expect(validateMirror('https://hf-mirror.example.com/')).toEqual({ ok: true, url: 'https://hf-mirror.example.com' });
    expect(validateMirror('javascript:alert(1)').ok).toBe(false);
    expect(validateMirror('https://user:pw@x.example').ok).toBe(false);
    expect(validateMirror('nope').ok).toBe(false);
  });
  it('validates the training config field by field', () => {
    expect(validateTrainingConfig(defaultTrainingConfig())).toEqual([]);
    const bad = { ...defaultTrainingConfig(), groupSize: 1, learningRate: 0, cellMix: { ...defaultTrainingConfig().cellMix, 'BU-BT': -1 } };
    const errors = validateTrainingConfig(bad);
    expect(errors.some((e) => e.startsWith('groupSize'))).toBe(true);
    expect(errors.some((e) => e.startsWith('learningRate'))).toBe(true);
    expect(errors.some((e) => e.startsWith('cellMix.BU-BT'))).toBe(true);
  });
});

describe('training that explains itself', () => {
  it('no learning signal exactly when every group has equal rewards', () => {
    expect(
      noLearningSignal([
        { group: 0, reward: 0 },
        { group: 0, reward: 0 },
        { group: 1, reward: 0.5 },
        { group: 1, reward: 0.5 },
      ]),
    ).toBe(true);
    expect(
      noLearningSignal([
        { group: 0, reward: 0 },
        { group: 0, reward: 0 },
        { group: 1, reward: 0.5 },
        { group: 1, reward: 1 },
      ]),
    ).toBe(false);
    // Equal means across groups are not equal rewards within one.
    expect(
      noLearningSignal([
        { group: 0, reward: 1 },
        { group: 0, reward: 0 },
      ]),
    ).toBe(false);
    expect(noLearningSignal([])).toBe(false);
  });
  it('fits chart axes to the data: a flat zero series is not drawn on 0-100, steps stay whole', () => {
    expect(valueRange(0, 0)).toEqual([0, 1]);
    expect(valueRange(2, 2)).toEqual([1.8, 2.2]);
    expect(valueRange(0.01, 0.03)).toEqual(
      [0.009, 0.031].map((v, i) => (i === 0 ? expect.closeTo(v, 9) : expect.closeTo(v, 9))) as unknown as [number, number],
    );
    expect(valueRange(0.001, 0.1)[0]).toBe(0);
    expect(valueRange(-1, 1)).toEqual([-1.1, 1.1]);
    expect(valueRange(null, null)).toEqual([0, 1]);
    expect(stepRange(3, 3)).toEqual([2, 4]);
    expect(stepRange(1, 7)).toEqual([1, 7]);
  });
});

describe('Wilson intervals', () => {
  it('match hand-computed values and stay inside [0, 1]', () => {
    // k = 1, n = 2: p = 0.5, centre 0.5, half-width 1.96·sqrt(0.125 + 0.9604/16)/(1 + 1.9208) ≈ 0.4057.
    const [lo, hi] = wilson(1, 2)!;
    expect(lo).toBeCloseTo(0.0945, 3);
    expect(hi).toBeCloseTo(0.9055, 3);
    expect(wilson(0, 2)![0]).toBe(0);
    expect(wilson(2, 2)![1]).toBe(1);
    expect(wilson(0, 2)![1]).toBeCloseTo(0.6576, 3);
    expect(wilson(0, 0)).toBeNull();
    const [a, b] = wilson(50, 100)!;
    expect(b - a).toBeCloseTo(0.1921, 3);
  });
});

describe('benchmark headlines', () => {
  it("show the benchmarks' own headline rows with their population and the better direction", () => {
    const m = {
      asb: {
        n: 8,
        attacked: { n: 6, asr: 0.5, original_task_success: 0.25, refusal_rate: 0 },
        by_setting: {},
        by_setting_variant: {},
        by_aggressive: {},
        by_agent: {},
        by_attack_type: {},
        pna: null,
        nrp: 0.3,
      },
      agentdojo: { n_user_tasks: 2, utility: 1, n_pairs: 4, utility_under_attack: 0.5, targeted_asr: null, by_user_task: {}, by_injection_task: {} },
    } as unknown as BenchmarkMetrics;
    const rows = benchmarkHeadlines(m).map((h) => [h.label, h.value, h.n, h.better, h.proportion]);
    expect(rows).toContainEqual(['ASB: ASR', 0.5, 6, 'lower', true]);
    expect(rows).toContainEqual(['ASB: original-task success under attack', 0.25, 6, 'higher', true]);
    expect(rows).toContainEqual(['ASB: refusal rate (our detector)', 0, 6, null, true]);
    expect(rows).toContainEqual(['ASB: NRP', 0.3, 6, 'higher', false]);
    expect(rows).toContainEqual(['AgentDojo banking: utility', 1, 2, 'higher', true]);
    expect(rows).toContainEqual(['AgentDojo banking: targeted ASR', null, 4, 'lower', true]);
    expect(benchmarkHeadlines(undefined)).toEqual([]);
  });
});
