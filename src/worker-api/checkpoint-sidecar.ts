// The playground's note next to an exported PEFT adapter: the checkpoint's name, step and base
// model, so importing the export gets them back (PEFT's own files carry neither). Pure and
// validated: an imported file is untrusted input.
export const CHECKPOINT_SIDECAR = 'playground_checkpoint.json';
const FORMAT = 'agent-safety-playground-checkpoint';

export interface CheckpointSidecar {
  name: string;
  step: number;
  baseModel?: { repo: string; revision: string };
}

export function sidecarText(s: CheckpointSidecar): string {
  return JSON.stringify({ format: FORMAT, version: 1, ...s }, null, 2) + '\n';
}

/** The name and step a sidecar carries; a malformed one is an error that names the field. */
export function parseSidecar(text: string, maxName: number): { name?: string; step?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${CHECKPOINT_SIDECAR}: not valid JSON (${(e as Error).message})`);
  }
  const o = raw as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || o.format !== FORMAT) throw new Error(`${CHECKPOINT_SIDECAR}: "format" must be "${FORMAT}"`);
  if (o.name !== undefined && (typeof o.name !== 'string' || !o.name.trim() || o.name.length > maxName))
    throw new Error(`${CHECKPOINT_SIDECAR}: "name" must be text of 1 to ${maxName} characters`);
  if (o.step !== undefined && !(Number.isInteger(o.step) && (o.step as number) >= 0 && (o.step as number) <= 1e9))
    throw new Error(`${CHECKPOINT_SIDECAR}: "step" must be a whole number ≥ 0, got ${JSON.stringify(o.step)}`);
  return { name: o.name as string | undefined, step: o.step as number | undefined };
}
