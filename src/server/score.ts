// POST /score in OpenRLHF's remote-reward shape: {query: [...], prompts: [...], labels: [...]} →
// {rewards, scores, extra_logs}. Single-turn use: each response (query minus its prompt) is one
// assistant turn of the scenario named by its label, run through the same Episode as /ws with
// maxTurns = 1, so a turn that calls tools is scored as the episode it would start.
import { Episode } from '../sandbox/agent-loop';
import type { Policy } from '../sandbox/policy';
import type { Scenario } from '../sandbox/scenarios/types';
import { EnvError } from './errors';
import { makeVerifier, short, type VerifierChoice } from './session';

export interface ScoreReply {
  rewards: number[];
  scores: number[];
  extra_logs: { format: number[]; label: number[] };
}

function stringList(body: Record<string, unknown>, key: string): string[] {
  const v = body[key];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new EnvError('bad_request', `/score: "${key}" must be a list of strings`);
  return v as string[];
}

export async function scoreBatch(
  body: unknown,
  byId: ReadonlyMap<string, Scenario>,
  verifier: VerifierChoice,
  maxItems: number,
  maxTextChars: number,
): Promise<ScoreReply> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new EnvError('bad_request', '/score: the body must be a JSON object {query, prompts, labels}');
  const b = body as Record<string, unknown>;
  const query = stringList(b, 'query');
  const prompts = b.prompts === undefined ? query.map(() => '') : stringList(b, 'prompts');
  const labels = stringList(b, 'labels');
  if (prompts.length !== query.length || labels.length !== query.length)
    throw new EnvError('bad_request', `/score: query, prompts and labels must have the same length (got ${query.length}, ${prompts.length}, ${labels.length})`);
  if (query.length > maxItems) throw new EnvError('too_large', `/score: ${query.length} items; the limit is ${maxItems} per request`);
  const rewards: number[] = [];
  const format: number[] = [];
  const label: number[] = [];
  for (let i = 0; i < query.length; i++) {
    const scenario = byId.get(labels[i]);
    if (!scenario) throw new EnvError('unknown_scenario', `/score: labels[${i}] = ${short(labels[i])} names no scenario of this server's suite`);
    const response = query[i].startsWith(prompts[i]) ? query[i].slice(prompts[i].length) : query[i];
    if (response.length > maxTextChars)
      throw new EnvError('too_large', `/score: response ${i} has ${response.length} characters; the limit is ${maxTextChars}`);
    const policy: Policy = { name: 'remote', act: async () => response };
    const result = await new Episode(scenario, policy, { maxTurns: 1, verifier: makeVerifier(verifier, 0) }).run();
    rewards.push(result.score.reward.total);
    format.push(result.score.reward.format.score);
    label.push(result.score.reward.label.score);
  }
  return { rewards, scores: rewards, extra_logs: { format, label } };
}
