// Errors raised while reading a model. Each message names the file (and the tensor or field)
// so a user who picked the wrong folder or a broken mirror sees what is wrong, not a stack trace.

/** Any problem loading a model: missing file, HTTP error, truncated download, shape mismatch. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
}

/** config.json is unsupported or inconsistent; the message names the field. */
export class ModelConfigError extends ModelLoadError {
  override name = 'ModelConfigError';
}

/** A safetensors file (or shard index) is malformed; the message names the file and tensor. */
export class SafetensorsError extends ModelLoadError {
  override name = 'SafetensorsError';
}
