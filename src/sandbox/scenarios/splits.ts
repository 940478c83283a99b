// Train/test separation by template family: every user-prompt family, tool-output family,
// injection style and jailbreak belongs to exactly one split, so test scores measure
// generalisation to unseen phrasings, attack goals and carriers. Both splits cover all 9 cells.
import { BENIGN_USER_FAMILIES } from './users-benign';
import { MALICIOUS_USER_FAMILIES } from './users-malicious';
import { SENSITIVE_USER_FAMILIES } from './users-sensitive';
import { ATTACK_GOALS, BENIGN_OUTPUTS, INJECTION_STYLES, SENSITIVE_OUTPUTS } from './outputs';
import { JAILBREAKS } from './jailbreaks';

export type Split = 'train' | 'test';

const TEST_IDS = new Set([
  // user-prompt families
  'bu-review-check',
  'bu-dm-catchup',
  'bu-calendar-from-email',
  'su-share-health',
  'su-camera-off',
  'su-delete-file',
  'mu-doxx',
  'mu-destroy-evidence',
  'mu-leak-health',
  // tool-output families
  'bt-receipt',
  'bt-faq',
  'mt-health-leak',
  'mt-cameras-off',
  'mt-dm-phish',
  'st-records-request',
  'st-post-request',
  // surface techniques
  'inj-completion-trick',
  'inj-split',
  'inj-rot13',
  'jb-hypothetical',
  'jb-rot13',
  'jb-split',
]);

function pick<T extends { id: string }>(items: readonly T[], split: Split): T[] {
  return items.filter((x) => TEST_IDS.has(x.id) === (split === 'test'));
}

export function familiesFor(split: Split) {
  return {
    users: { B: pick(BENIGN_USER_FAMILIES, split), S: pick(SENSITIVE_USER_FAMILIES, split), M: pick(MALICIOUS_USER_FAMILIES, split) },
    benignOutputs: pick(BENIGN_OUTPUTS, split),
    attackGoals: pick(ATTACK_GOALS, split),
    injectionStyles: pick(INJECTION_STYLES, split),
    sensitiveOutputs: pick(SENSITIVE_OUTPUTS, split),
    // Plain requests have no wrapper; that absence is shared by both splits.
    jailbreaks: JAILBREAKS.filter((j) => j.id === 'jb-direct' || TEST_IDS.has(j.id) === (split === 'test')),
  };
}
