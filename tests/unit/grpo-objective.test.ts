import { describe, expect, it } from 'vitest';
import { groupAdvantages, surrogate, tokenTerms } from '../../src/training/grpo/objective';

describe('GRPO objective', () => {
  it('normalises rewards within each group (hand-computed)', () => {
    // Group 0: rewards 1, 0, 0, 1 → mean 0.5, std 0.5 → ±1 (less eps). Group 1: all equal → 0.
    const a = groupAdvantages([1, 0, 0, 1, 0.3, 0.3], [0, 0, 0, 0, 1, 1]);
    expect(a[0]).toBeCloseTo(0.5 / (0.5 + 1e-4), 10);
    expect(a[1]).toBeCloseTo(-0.5 / (0.5 + 1e-4), 10);
    expect(a.slice(4)).toEqual([0, 0]);
  });

  it('token weights are −∂L/∂logp of the clipped surrogate with the k3 KL (finite differences)', () => {
    const cases = [
      { logp: -1.2, oldLogp: -1.3, refLogp: -1.0, advantage: 0.8 },
      { logp: -0.5, oldLogp: -0.9, refLogp: -0.7, advantage: 1.5 }, // r = e^0.4 > 1.2: clipped
      { logp: -2.0, oldLogp: -1.5, refLogp: -2.2, advantage: -0.7 }, // r = e^-0.5 < 0.8: clipped
      { logp: -0.3, oldLogp: -0.35, refLogp: -0.1, advantage: -1.1 },
    ];
    const eps = 0.2;
    const beta = 0.05;
    for (const c of cases) {
      const terms = tokenTerms(c.logp, c.oldLogp, c.refLogp, c.advantage, eps, beta, 1);
      const h = 1e-6;
      const j = (lp: number) => surrogate([{ ...c, logp: lp }], eps, beta);
      const dJ = (j(c.logp + h) - j(c.logp - h)) / (2 * h);
      // L = −J and w = −∂L/∂logp = ∂J/∂logp.
      expect(terms.weight).toBeCloseTo(dJ, 6);
    }
    expect(tokenTerms(-0.5, -0.9, undefined, 1.5, eps, 0, 1).clipped).toBe(true);
    expect(tokenTerms(-1.2, -1.3, undefined, 0.8, eps, 0, 4).weight).toBeCloseTo((0.8 * Math.exp(0.1)) / 4, 12);
  });
});
