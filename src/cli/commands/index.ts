// Each CLI command lives in its own module; add a line here to register one.
type Register = (name: string, load: () => Promise<{ run(flags: import('../flags').Flags): Promise<void>; usage: string; needsGpu?: boolean }>) => void;

export function registerAll(register: Register) {
  void register;
  register('logits', () => import('./logits'));
  register('generate', () => import('./generate'));
  register('grad', () => import('./grad'));
  register('grpo-grad', () => import('./grpo-grad'));
  register('train', () => import('./train'));
  register('scenarios', () => import('./scenarios')); // sandbox
  register('eval', () => import('./eval')); // sandbox
  register('experiment', () => import('./experiment')); // issue #13: npm run experiment -- learn
}
