// One place that turns a policy name from the UI into a sandbox Policy.
import { SCRIPTED_POLICIES, type Policy } from '../sandbox/index';
import type { EngineClient } from './engine-client';
import { modelPolicy, type ModelPolicyOptions } from './model-policy';
import type { PolicyName } from './lib/share-hash';

export const POLICY_LABELS: Record<PolicyName, string> = {
  model: 'Model (loaded in the worker)',
  comply: 'Scripted: comply (follows any instruction)',
  refuse: 'Scripted: refuse (always refuses)',
  oracle: 'Scripted: oracle (the labelled right behaviour)',
};

/** A selector's choice: a policy, and for the model a stored checkpoint's adapter (else the base). */
export interface PolicyPick {
  name: PolicyName;
  adapter?: { checkpointId: string; label: string };
}

/** A short name for run labels and file names: the policy, or "model+adapter:NAME". */
export function policyTag(pick: PolicyPick): string {
  return pick.adapter ? `model+adapter:${pick.adapter.label}` : pick.name;
}

export function makePolicy(pick: PolicyName | PolicyPick, engine: EngineClient, model: ModelPolicyOptions): Policy {
  const { name, adapter } = typeof pick === 'string' ? { name: pick, adapter: undefined } : pick;
  if (name === 'model') {
    return modelPolicy(engine, adapter ? { ...model, name: `model + ${adapter.label}`, adapter: { checkpointId: adapter.checkpointId } } : model);
  }
  const make = SCRIPTED_POLICIES[name];
  if (!make) throw new Error(`unknown policy "${name}"`);
  return make();
}
