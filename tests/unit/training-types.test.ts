// The training types shared by the UI and the worker: resume validation, and the UI's metrics of a
// trainer step record (0-based step there, per-cell rates only for the cells the step sampled).
import { describe, expect, it } from 'vitest';
import { defaultTrainingConfig, trainingMetricsOf, validateTrainingConfig } from '../../src/worker-api/training-types';

describe('training types', () => {
  it('a resumed run must go past the checkpoint step', () => {
    const config = { ...defaultTrainingConfig(), steps: 4, resumeFrom: 'ck' };
    expect(validateTrainingConfig(config)).toEqual([]); // step unknown: the worker checks it
    expect(validateTrainingConfig(config, 3)).toEqual([]);
    expect(validateTrainingConfig(config, 4)).toEqual(["steps is the total to reach and must be larger than the checkpoint's step 4, got 4"]);
    expect(validateTrainingConfig({ ...config, resumeFrom: ' ' })).toEqual(['resumeFrom must be a checkpoint id']);
  });

  it('maps a trainer record to the UI metrics', () => {
    const record = {
      step: 2,
      reward_mean: 0.25,
      kl: 0.01,
      grad_norm: 1.5,
      time_step_s: 9,
      'MU-BT.reward': 0.5,
      'MU-BT.refusal_rate': 1,
      'MU-BT.verification_rate': 0,
      'MU-BT.attack_success_rate': 0,
      'MU-BT.completion_rate': 0.5,
    };
    expect(trainingMetricsOf(record, 10, 30)).toEqual({
      step: 3,
      totalSteps: 10,
      elapsedSeconds: 30,
      meanReward: 0.25,
      kl: 0.01,
      gradNorm: 1.5,
      perCell: { 'MU-BT': { refusal: 1, verification: 0, attackSuccess: 0, completion: 0.5 } },
    });
  });
});
