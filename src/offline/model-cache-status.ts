// Whether a hub model could load with no network: every file the registry lists for it is in the
// hub download cache (the same keys HubSource reads: the file's resolve URL on the chosen mirror).
import { CacheStorageByteCache, type ByteCache } from '../hf-io/cache';
import { HubSource } from '../hf-io/hub-source';
import type { HubModelEntry } from '../hf-io/registry';

export interface HubCacheStatus {
  cached: boolean;
  missing: string[];
}

export async function hubModelCacheStatus(
  entry: Pick<HubModelEntry, 'repo' | 'revision' | 'files'>,
  baseUrl: string,
  cache: Pick<ByteCache, 'list'> = new CacheStorageByteCache(),
): Promise<HubCacheStatus> {
  const source = new HubSource({ repo: entry.repo, revision: entry.revision, baseUrl });
  const keys = new Set(await cache.list());
  const missing = entry.files.filter((file) => !keys.has(source.fileUrl(file)));
  return { cached: missing.length === 0, missing };
}
