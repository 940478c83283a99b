// The benchmark's rollout environment: every rollout is one turn of exactly `promptTokens` prompt
// ids and `newTokens` generated ids (no stop token ends it early), so each step trains sequences of
// the same known length. The reward is cheap and deterministic (the fraction of even ids in the
// completion): sampled rollouts of one prompt differ, so advantages are non-zero and the
// backward and optimizer do real work.
import { promptCompletionSequence, type Rollout, type RolloutEnvironment } from '../grpo/trainer';

export function benchPrompt(promptTokens: number, vocabSize: number, step: number, group: number): number[] {
  return Array.from({ length: promptTokens }, (_, i) => (i * 31 + group * 7 + step * 13 + 11) % vocabSize);
}

export function evenIdReward(completion: readonly number[]): number {
  return completion.filter((id) => id % 2 === 0).length / Math.max(1, completion.length);
}

export class FixedLengthEnvironment implements RolloutEnvironment {
  constructor(
    private readonly promptTokens: number,
    private readonly newTokens: number,
    private readonly vocabSize: number,
  ) {
    if (!Number.isInteger(promptTokens) || promptTokens < 1) throw new Error(`prompt tokens must be a positive integer, got ${promptTokens}`);
    if (!Number.isInteger(newTokens) || newTokens < 1) throw new Error(`new tokens must be a positive integer, got ${newTokens}`);
  }

  async collect({ step, prompts, groupSize, generate }: Parameters<RolloutEnvironment['collect']>[0]): Promise<Rollout[]> {
    const requests = Array.from({ length: prompts * groupSize }, (_, i) => {
      // No stop ids: the model's EOS must not cut a rollout short. The trainer passes the request
      // through to generate() whole, stopIds included.
      const request = {
        promptIds: benchPrompt(this.promptTokens, this.vocabSize, step, Math.floor(i / groupSize)),
        maxNewTokens: this.newTokens,
        stopIds: [] as number[],
      };
      return request;
    });
    const out = await generate(requests);
    return out.map((seq, i) => ({
      group: Math.floor(i / groupSize),
      sequences: [promptCompletionSequence(requests[i].promptIds, seq.ids)],
      reward: evenIdReward(seq.ids),
    }));
  }
}
