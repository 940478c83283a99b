// A single-turn environment with a programmatic reward over the generated ids: the simplest
// verifiable task, used to prove the trainer learns (and, with the sign flipped, that it fails).
import { promptCompletionSequence, type Rollout, type RolloutEnvironment } from './trainer';

export class VerifiableRewardEnvironment implements RolloutEnvironment {
  constructor(
    private readonly prompts: number[][],
    private readonly reward: (completion: number[], prompt: number[]) => number,
    private readonly maxNewTokens: number,
  ) {
    if (prompts.length === 0) throw new Error('VerifiableRewardEnvironment needs at least one prompt');
  }

  async collect({ step, prompts, groupSize, generate }: Parameters<RolloutEnvironment['collect']>[0]): Promise<Rollout[]> {
    const chosen = Array.from({ length: prompts }, (_, g) => this.prompts[(step * prompts + g) % this.prompts.length]);
    const requests = chosen.flatMap((promptIds) => Array.from({ length: groupSize }, () => ({ promptIds, maxNewTokens: this.maxNewTokens })));
    const out = await generate(requests);
    return out.map((seq, i) => {
      const promptIds = requests[i].promptIds;
      return { group: Math.floor(i / groupSize), sequences: [promptCompletionSequence(promptIds, seq.ids)], reward: this.reward(seq.ids, promptIds) };
    });
  }
}
