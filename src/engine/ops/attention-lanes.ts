// How an attention workgroup splits its threads between key positions and head dimensions.
//
// Every attention kernel (inference, training forward, dQ, dK/dV) scores one key per thread per
// tile of WG keys, then accumulates weighted rows over head_dim. With head_dim ≥ WG (every real
// Qwen: 64 or 128) all threads share one key loop and each owns head_dim / WG dimensions. With a
// short head_dim (the tiny test models: 8 or 16) most threads would sit idle in that loop while
// each still walked all WG keys, so the workgroup is split into KEY_GROUPS groups of DIM_LANES
// threads: group g takes keys g, g + KEY_GROUPS, ... of each tile, and the groups' partial sums
// meet once at the end. Same arithmetic per key, in another order (results agree to f32 rounding).

export interface AttentionLanes {
  /** Threads that share one key loop, each owning dimsPerThread dimensions. */
  dimLanes: number;
  /** Independent key loops per workgroup (workgroup size / dimLanes). */
  keyGroups: number;
  dimsPerThread: number;
}

export function attentionLanes(headDim: number, workgroup: number): AttentionLanes {
  if (!Number.isInteger(headDim) || headDim < 1) throw new Error(`attention: head_dim must be a positive integer, got ${headDim}`);
  let dimLanes = 1;
  while (dimLanes < headDim && dimLanes < workgroup) dimLanes *= 2;
  return { dimLanes, keyGroups: workgroup / dimLanes, dimsPerThread: Math.ceil(headDim / dimLanes) };
}

/** WGSL constants for the split (DIM_LANES, KEY_GROUPS, DIMS_PER_THREAD). */
export function attentionLaneConstants(headDim: number, workgroup: number): string {
  const l = attentionLanes(headDim, workgroup);
  return `const DIM_LANES = ${l.dimLanes}u;
const KEY_GROUPS = ${l.keyGroups}u;
const DIMS_PER_THREAD = ${l.dimsPerThread}u;`;
}
