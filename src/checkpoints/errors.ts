// Errors of the checkpoint store. Each message names the checkpoint (and the tensor or field) so
// the Checkpoints tab can show it as is; none of them leaves a partial checkpoint behind.

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** No checkpoint with this id (deleted in another tab, or never saved). */
export class CheckpointNotFoundError extends CheckpointError {
  override name = 'CheckpointNotFoundError';
}

/** The data handed to save() is inconsistent (shape vs length, missing moment, bad name...). */
export class CheckpointInputError extends CheckpointError {
  override name = 'CheckpointInputError';
}

/** A stored record is damaged or from an unknown schema version. */
export class CheckpointCorruptError extends CheckpointError {
  override name = 'CheckpointCorruptError';
}

/** The checkpoint was trained on another base model than the one loaded now. */
export class CheckpointModelMismatchError extends CheckpointError {
  override name = 'CheckpointModelMismatchError';
}

/** The browser refused to store the checkpoint for lack of space. Earlier checkpoints are intact. */
export class CheckpointQuotaError extends CheckpointError {
  override name = 'CheckpointQuotaError';
  constructor(
    message: string,
    readonly neededBytes: number,
    /** quota - usage from navigator.storage.estimate(), when known. */
    readonly freeBytes: number | undefined,
  ) {
    super(message);
  }
}

/** True for a DOMException (or look-alike) that reports a full disk or exhausted quota. */
export function isQuotaExceeded(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { name?: unknown }).name;
  // Old Firefox reported NS_ERROR_DOM_QUOTA_REACHED; code 22 is the legacy QUOTA_EXCEEDED_ERR.
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || (error as { code?: unknown }).code === 22;
}

export function formatMegabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 10 ? mb.toFixed(0) : mb.toFixed(1);
}

export function quotaMessage(name: string, neededBytes: number, freeBytes: number | undefined): string {
  // Browsers may refuse a write while estimate() still shows room (per-origin limits, incognito
  // pools, a quota override): then say that, rather than a contradictory "needs 1 MB, 9000 MB free".
  const free =
    freeBytes === undefined
      ? 'free space unknown'
      : freeBytes >= neededBytes
        ? `the browser reports ${formatMegabytes(freeBytes)} MB free but refused the write`
        : `${formatMegabytes(Math.max(0, freeBytes))} MB free`;
  return (
    `Not enough browser storage to save checkpoint '${name}' (needs ${formatMegabytes(neededBytes)} MB, ${free}). ` + 'Delete old checkpoints or export them.'
  );
}
