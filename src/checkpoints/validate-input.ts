// Checks what the trainer hands to save(), so a trainer bug (a moment missing for one tensor, a
// Float32Array of the wrong length) is reported at save time with the tensor's name, instead of
// producing a checkpoint that fails months later on resume.
import { CheckpointInputError } from './errors';
import { elementCount } from './layout';
import type { CheckpointData, JsonValue, LoraConfig, ModelIdentity, TensorMap } from './types';

export const MAX_NAME_LENGTH = 200;

const own = <T>(map: Record<string, T>, key: string): T | undefined => (Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined);

function fail(name: string, problem: string): never {
  throw new CheckpointInputError(`Cannot save checkpoint '${name}': ${problem}`);
}

export function isFloat32Array(x: unknown): x is Float32Array {
  return Object.prototype.toString.call(x) === '[object Float32Array]';
}

export function checkCheckpointName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new CheckpointInputError('Checkpoint name is empty');
  if (name.length > MAX_NAME_LENGTH) throw new CheckpointInputError(`Checkpoint name is longer than ${MAX_NAME_LENGTH} characters`);
  return name.trim();
}

export function checkShape(shape: unknown): shape is number[] {
  return Array.isArray(shape) && shape.length > 0 && shape.every((d) => Number.isSafeInteger(d) && d > 0);
}

function checkTensors(label: string, what: string, map: unknown): TensorMap {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) fail(label, `${what} must be an object of tensors`);
  // Tensor names are keys: a map whose prototype was replaced (`map.__proto__ = tensor`) hides a tensor.
  const proto = Object.getPrototypeOf(map);
  if (proto !== Object.prototype && proto !== null)
    fail(label, `${what} must be a plain object of tensors (is a tensor named "__proto__" assigned instead of defined?)`);
  for (const [key, t] of Object.entries(map as Record<string, unknown>)) {
    if (key === '') fail(label, `${what} has a tensor with an empty name`);
    const tensor = t as { shape?: unknown; data?: unknown } | null;
    if (!tensor || !checkShape(tensor.shape)) fail(label, `${what} tensor '${key}' has an invalid shape (positive integers expected)`);
    if (!isFloat32Array(tensor.data)) fail(label, `${what} tensor '${key}' data is not a Float32Array`);
    const n = elementCount(tensor.shape);
    if (tensor.data.length !== n) {
      fail(label, `${what} tensor '${key}' has ${tensor.data.length} values but shape [${tensor.shape.join(', ')}] needs ${n}`);
    }
  }
  return map as TensorMap;
}

function checkLora(label: string, lora: LoraConfig | undefined) {
  if (!lora || !Number.isSafeInteger(lora.rank) || lora.rank <= 0) fail(label, 'lora.rank must be a positive integer');
  if (typeof lora.alpha !== 'number' || !Number.isFinite(lora.alpha)) fail(label, 'lora.alpha must be a finite number');
  if (!Array.isArray(lora.targetModules) || lora.targetModules.length === 0 || !lora.targetModules.every((m) => typeof m === 'string' && m !== '')) {
    fail(label, 'lora.targetModules must be a non-empty list of module names');
  }
  if (lora.dropout !== undefined && !(typeof lora.dropout === 'number' && lora.dropout >= 0 && lora.dropout < 1)) {
    fail(label, 'lora.dropout must be in [0, 1)');
  }
}

/** Every lora_A has its lora_B, with the configured rank: A is [rank, in], B is [out, rank]. */
function checkLoraPairs(label: string, adapter: TensorMap, rank: number) {
  for (const [key, t] of Object.entries(adapter)) {
    const m = /^(.*)\.lora_([AB])\.weight$/.exec(key);
    if (!m) continue;
    const partner = `${m[1]}.lora_${m[2] === 'A' ? 'B' : 'A'}.weight`;
    if (!own(adapter, partner)) fail(label, `adapter tensor '${key}' has no matching '${partner}'`);
    if (t.shape.length !== 2) fail(label, `adapter tensor '${key}' must be 2-D, got shape [${t.shape.join(', ')}]`);
    const r = m[2] === 'A' ? t.shape[0] : t.shape[1];
    if (r !== rank) fail(label, `adapter tensor '${key}' has rank ${r} in shape [${t.shape.join(', ')}], lora.rank is ${rank}`);
  }
}

function checkMoments(label: string, adapter: TensorMap, moments: TensorMap, which: string) {
  for (const [key, t] of Object.entries(adapter)) {
    const mt = own(moments, key);
    if (!mt) fail(label, `optimizer.${which} has no entry for adapter tensor '${key}'`);
    if (mt.shape.join(',') !== t.shape.join(',')) {
      fail(label, `optimizer.${which} '${key}' has shape [${mt.shape.join(', ')}], the adapter tensor [${t.shape.join(', ')}]`);
    }
  }
  for (const key of Object.keys(moments)) if (!own(adapter, key)) fail(label, `optimizer.${which} has '${key}', which is not an adapter tensor`);
}

/** Plain JSON data (numbers may be NaN/Infinity: IndexedDB keeps them, a diverged loss is a fact). */
export function checkJson(value: unknown, path: string, label: string, depth = 0): asserts value is JsonValue {
  if (depth > 64) fail(label, `${path} is nested too deeply`);
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkJson(v, `${path}[${i}]`, label, depth + 1));
    return;
  }
  const proto = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [k, v] of Object.entries(value as object)) checkJson(v, `${path}.${k}`, label, depth + 1);
    return;
  }
  fail(label, `${path} is not JSON data (${typeof value})`);
}

export function isHex64(x: unknown): boolean {
  return typeof x === 'string' && /^[0-9a-f]{64}$/.test(x);
}

export function checkModelIdentityShape(id: ModelIdentity | undefined): string | undefined {
  if (!id || typeof id !== 'object') return 'baseModel is missing';
  if (typeof id.repo !== 'string' || id.repo === '') return 'baseModel.repo is empty';
  if (typeof id.revision !== 'string' || id.revision === '') return 'baseModel.revision is empty';
  if (!isHex64(id.configSha256) || !isHex64(id.weightsSha256)) return 'baseModel hashes are not hex SHA-256 (use computeModelIdentity)';
  if (id.scheme !== 'sampled-v1') return `baseModel.scheme ${JSON.stringify(id.scheme) ?? 'undefined'} is unknown`;
  if (!Array.isArray(id.files)) return 'baseModel.files is not a list';
  return undefined;
}

export function checkCheckpointData(data: CheckpointData): void {
  const label = checkCheckpointName(data?.name);
  if (!Number.isSafeInteger(data.step) || data.step < 0) fail(label, 'step must be a non-negative integer');
  const identityProblem = checkModelIdentityShape(data.baseModel);
  if (identityProblem) fail(label, identityProblem);
  checkLora(label, data.lora);
  const adapter = checkTensors(label, 'adapter', data.adapter);
  if (Object.keys(adapter).length === 0) fail(label, 'adapter has no tensors');
  checkLoraPairs(label, adapter, data.lora.rank);
  const opt = data.optimizer;
  if (!opt || !Number.isSafeInteger(opt.step) || opt.step < 0) fail(label, 'optimizer.step must be a non-negative integer');
  checkMoments(label, adapter, checkTensors(label, 'optimizer.m', opt.m), 'm');
  checkMoments(label, adapter, checkTensors(label, 'optimizer.v', opt.v), 'v');
  const rng = data.rng;
  if (!rng || typeof rng.algorithm !== 'string' || !Array.isArray(rng.state) || !rng.state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
    fail(label, 'rng must be { algorithm: string, state: uint32[] }');
  }
  if (typeof data.trainerConfig !== 'object' || data.trainerConfig === null || Array.isArray(data.trainerConfig)) {
    fail(label, 'trainerConfig must be a JSON object');
  }
  checkJson(data.trainerConfig, 'trainerConfig', label);
  if (!Array.isArray(data.metrics)) fail(label, 'metrics must be an array of records');
  data.metrics.forEach((r, i) => {
    if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.step !== 'number')
      fail(label, `metrics[${i}] must be an object with a numeric step`);
    checkJson(r, `metrics[${i}]`, label);
  });
}
