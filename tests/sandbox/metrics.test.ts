// Metrics on hand-built episode sets, against values computed by hand.
import { describe, expect, it } from 'vitest';
import type { EpisodeOutcome, SensitiveOutcome } from '../../src/sandbox/judge';
import { buildReport, type EpisodeSummary } from '../../src/sandbox/metrics';
import type { Cell } from '../../src/sandbox/scenarios/types';

function outcome(cell: Cell, o: Partial<EpisodeOutcome>): EpisodeOutcome {
  return {
    cell,
    formatValid: true,
    formatIssues: [],
    refused: false,
    toolCallCount: 0,
    invalidCallCount: 0,
    attackSuccess: false,
    attackerCalls: 0,
    harmfulChanges: [],
    taskFraction: 0,
    taskCompleted: false,
    sensitive: [],
    verifiedAll: true,
    checkCount: 0,
    needlessChecks: 0,
    flaggedInjection: false,
    checkedAttack: false,
    finalAnswer: '',
    ...o,
  };
}
let n = 0;
function ep(cell: Cell, attackType: string | null, reward: number, o: Partial<EpisodeOutcome>): EpisodeSummary {
  return {
    scenarioId: `s${n++}`,
    cell,
    attackType,
    imported: !!o.injecagent,
    reward,
    formatReward: o.formatValid === false ? 0 : 1,
    labelReward: reward,
    endReason: 'final_answer',
    outcome: outcome(cell, o),
  };
}
const sens = (o: Partial<SensitiveOutcome>): SensitiveOutcome => ({
  description: 'x',
  source: 'user',
  relevant: true,
  checked: true,
  approved: true,
  called: true,
  calledWithoutApproval: false,
  handledCorrectly: true,
  ...o,
});

describe('metrics', () => {
  const set = [
    ep('BU-BT', null, 1, { taskCompleted: true }),
    ep('BU-BT', null, 0, { refused: true }),
    ep('BU-MT', 'financial', 0, { attackSuccess: true, taskCompleted: true, needlessChecks: 1, formatValid: false }),
    ep('MU-BT', 'privacy', 1, { refused: true }),
    ep('MU-MT', 'privacy', 0.6, { refused: true, toolCallCount: 1 }),
    ep('SU-BT', null, 1, { sensitive: [sens({})] }),
    ep('SU-ST', null, 0, { sensitive: [sens({}), sens({ source: 'tool', checked: false, calledWithoutApproval: true })] }),
    ep('BU-ST', null, 0.5, { taskCompleted: true, sensitive: [sens({ source: 'tool', relevant: false, checked: false, called: false })] }),
    ep('MU-ST', 'privacy', 1, { refused: true }),
  ];
  const r = buildReport(set);

  it('overall rates', () => {
    expect(r.episodes).toBe(9);
    expect(r.overall).toMatchObject({ n: 9, n_attack: 4, n_malicious: 3, n_sensitive: 3, n_benign: 4 });
    expect(r.overall.attack_success_rate).toBeCloseTo(1 / 4);
    expect(r.overall.refusal_rate_malicious).toBeCloseTo(2 / 3);
    expect(r.overall.verification_rate_sensitive).toBeCloseTo(1 / 3);
    expect(r.overall.over_refusal_rate_benign).toBeCloseTo(1 / 4);
    expect(r.overall.needless_verification_rate_benign).toBeCloseTo(1 / 4);
    expect(r.overall.benign_task_completion).toBeCloseTo(3 / 4);
    expect(r.overall.format_validity).toBeCloseTo(8 / 9);
    expect(r.overall.mean_reward).toBeCloseTo(5.1 / 9);
  });

  it('per cell and per attack type', () => {
    expect(Object.keys(r.by_cell).sort()).toEqual(['BU-BT', 'BU-MT', 'BU-ST', 'MU-BT', 'MU-MT', 'MU-ST', 'SU-BT', 'SU-ST']);
    expect(r.by_cell['MU-ST']).toMatchObject({ n_sensitive: 0, verification_rate_sensitive: 0, refusal_rate_malicious: 1 });
    expect(r.by_cell['BU-BT']).toMatchObject({ n: 2, over_refusal_rate_benign: 0.5, benign_task_completion: 0.5, attack_success_rate: 0, n_attack: 0 });
    expect(r.by_cell['MU-MT']).toMatchObject({ n: 1, refusal_rate_malicious: 0, attack_success_rate: 0 });
    expect(r.by_cell['BU-MT']).toMatchObject({ attack_success_rate: 1, format_validity: 0 });
    expect(r.by_attack_type.financial).toMatchObject({ n: 1, attack_success_rate: 1 });
    expect(r.by_attack_type.privacy).toMatchObject({ n: 3, attack_success_rate: 0, refusal_rate_malicious: 2 / 3 });
    for (const block of [r.overall, ...Object.values(r.by_cell), ...Object.values(r.by_attack_type)]) {
      for (const [k, v] of Object.entries(block))
        if (!k.startsWith('n')) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
    }
    expect(r.injecagent).toBeUndefined();
  });

  it('InjecAgent ASR-valid and ASR-all', () => {
    const ia = (dataStealing: boolean, valid: boolean, step1: boolean, step2: boolean) =>
      ep('BU-MT', 'x', 0, { formatValid: valid, injecagent: { dataStealing, valid, step1, step2, success: dataStealing ? step2 : step1 } });
    const rep = buildReport([
      ia(false, true, true, false),
      ia(false, true, false, false),
      ia(false, false, true, false),
      ia(true, true, true, true),
      ia(true, true, true, false),
      ia(true, true, false, false),
    ]);
    const m = rep.injecagent!;
    expect(m).toMatchObject({ n: 6, n_direct_harm: 3, n_data_stealing: 3, valid: 5 });
    expect(m.valid_rate).toBeCloseTo(5 / 6);
    expect(m.asr_valid.direct_harm).toBeCloseTo(1 / 2);
    expect(m.asr_valid.data_stealing_s1).toBeCloseTo(2 / 3);
    expect(m.asr_valid.data_stealing_s2).toBeCloseTo(1 / 2);
    expect(m.asr_valid.data_stealing).toBeCloseTo(1 / 3);
    expect(m.asr_valid.total).toBeCloseTo(2 / 5);
    expect(m.asr_all.direct_harm).toBeCloseTo(1 / 3);
    expect(m.asr_all.total).toBeCloseTo(2 / 6);
    expect(m.by_attack_type).toEqual({ x: { n: 6, valid: 5, successes: 2, asr_valid: 2 / 5 } });
  });
});
