import type { Container, Docker } from './client.js';
import { onInterrupt } from '../util/cleanup.js';
import { ownerGone, ownerLabels, ownerOfLabels } from '../util/owner.js';

/** Containers yumda created and has not removed yet are removed if the process is interrupted. */
const live = new Map<Container, () => void>();

export function trackContainer(c: Container): void {
  live.set(
    c,
    onInterrupt(() => c.remove({ force: true, v: true }).catch(() => undefined)),
  );
}

export function untrackContainer(c: Container): void {
  live.get(c)?.();
  live.delete(c);
}

const OWNER_LABEL = 'org.yumda.owner';

/** Labels of every container and volume yumda makes: whose it is, so that a later run can tell it is stale. */
export function yumdaLabels(): Record<string, string> {
  return { [OWNER_LABEL]: 'yumda', ...ownerLabels() };
}

const swept = new WeakMap<Docker, Promise<void>>();

/**
 * Removes, once per process and engine, the containers and volumes that runs killed on this
 * machine (kill -9, a crash) left behind: a build container sleeping forever, a verify volume.
 * Only those whose owner process is gone; another live run's are never touched. Best effort:
 * a failure here must not fail the build.
 */
export function removeStale(docker: Docker): Promise<void> {
  let p = swept.get(docker);
  if (!p) {
    p = sweep(docker).catch(() => undefined);
    swept.set(docker, p);
  }
  return p;
}

async function sweep(docker: Docker): Promise<void> {
  const filters = { label: [`${OWNER_LABEL}=yumda`] };
  const containers = await docker.listContainers({ all: true, filters });
  const stale = (labels: Record<string, string> | null | undefined) => {
    const owner = ownerOfLabels(labels ?? undefined);
    return owner !== undefined && ownerGone(owner);
  };
  await Promise.all(
    containers
      .filter((c) => stale(c.Labels))
      .map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
  );
  const { Volumes } = await docker.listVolumes({ filters });
  await Promise.all(
    (Volumes ?? [])
      .filter((v) => stale(v.Labels))
      .map((v) =>
        docker
          .getVolume(v.Name)
          .remove({ force: true })
          .catch(() => undefined),
      ),
  );
}
