/**
 * The repository metadata a build reads (apt's lists, dnf's and yum's caches) lives in Docker
 * volumes, not in the cache directory: one per target, architecture and repository set, shared by
 * every cache directory on the engine. `cache info` sizes them and `cache clean --metadata`
 * removes them.
 */
import type { Docker } from '../docker/client.js';

export const APT_LISTS_VOLUME_PREFIX = 'yumda-apt-lists-';
export const RPM_CACHE_VOLUME_PREFIX = 'yumda-rpm-cache-';

export function isMetadataVolume(name: string): boolean {
  return name.startsWith(APT_LISTS_VOLUME_PREFIX) || name.startsWith(RPM_CACHE_VOLUME_PREFIX);
}

export interface MetadataVolume {
  name: string;
  /** As the engine measured it; -1 where it did not say. */
  bytes: number;
  /** Containers using it now (a build that runs). */
  users: number;
}

interface DfVolume {
  Name: string;
  UsageData?: { Size?: number; RefCount?: number } | null;
}

/** The metadata volumes of `df`'s answer, by name (pure: the engine call is the caller's). */
export function metadataVolumesOf(volumes: readonly DfVolume[]): MetadataVolume[] {
  return volumes
    .filter((v) => isMetadataVolume(v.Name))
    .map((v) => ({ name: v.Name, bytes: v.UsageData?.Size ?? -1, users: Math.max(0, v.UsageData?.RefCount ?? 0) }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export async function listMetadataVolumes(docker: Docker): Promise<MetadataVolume[]> {
  const df = (await docker.df()) as { Volumes?: DfVolume[] | null };
  return metadataVolumesOf(df.Volumes ?? []);
}

/** Removes each volume no container uses; returns what it removed and what it left (in use). */
export async function removeMetadataVolumes(docker: Docker, volumes: readonly MetadataVolume[]): Promise<{ removed: string[]; inUse: string[] }> {
  const removed: string[] = [];
  const inUse: string[] = [];
  for (const v of volumes) {
    if (v.users > 0) {
      inUse.push(v.name);
      continue;
    }
    try {
      await docker.getVolume(v.name).remove();
      removed.push(v.name);
    } catch (e) {
      // 409: a build started using it since the listing; 404: someone else removed it
      const status = (e as { statusCode?: number }).statusCode;
      if (status === 409) inUse.push(v.name);
      else if (status !== 404) throw e;
    }
  }
  return { removed, inUse };
}
