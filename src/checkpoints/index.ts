// Public surface of the checkpoint store (see store.ts for the IndexedDB schema).
export * from './types';
export * from './errors';
export { CheckpointStore, DEFAULT_DB_NAME, type CheckpointStoreOptions, type CheckpointStoreTestHooks, type LoadOptions, type StorageEstimator } from './store';
export { computeModelIdentity, describeModelMismatch, sampledFileDigest, SAMPLE_BYTES, type ModelIdentityInput, type WeightFileInput } from './model-identity';
export { DEFAULT_CHUNK_BYTES } from './layout';
export { SCHEMA_VERSION } from './manifest';
export { peftLoraTensorName } from './peft-names';
