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

export function makePolicy(name: PolicyName, engine: EngineClient, model: ModelPolicyOptions): Policy {
  if (name === 'model') return modelPolicy(engine, model);
  const make = SCRIPTED_POLICIES[name];
  if (!make) throw new Error(`unknown policy "${name}"`);
  return make();
}
