import type { Docker } from './client.js';
import { randomBytes } from 'node:crypto';
import { onInterrupt } from '../util/cleanup.js';
import { yumdaLabels } from './cleanup.js';

async function removeVolume(docker: Docker, name: string): Promise<void> {
  // containers that use it go first (Ctrl-C may arrive while one runs); then the volume, which
  // the engine refuses while a container removal is still in flight, hence the retries
  for (let attempt = 0; attempt < 20; attempt++) {
    const users = await docker.listContainers({ all: true, filters: { volume: [name] } }).catch(() => []);
    await Promise.all(
      users.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch(() => undefined),
      ),
    );
    try {
      await docker.getVolume(name).remove({ force: true });
      return;
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * A named volume for one job, removed with whatever still uses it when `fn` ends, however it
 * ends, and on Ctrl-C. Unlike a bind mount, a volume lives in the engine, so it works the same
 * with a remote engine (DOCKER_HOST) as with a local one.
 */
export async function withVolume<T>(docker: Docker, purpose: string, fn: (name: string) => Promise<T>): Promise<T> {
  const name = `yumda-${purpose}-${process.pid}-${randomBytes(4).toString('hex')}`;
  await docker.createVolume({ Name: name, Labels: yumdaLabels() });
  const forget = onInterrupt(() => removeVolume(docker, name));
  try {
    return await fn(name);
  } finally {
    forget();
    await removeVolume(docker, name);
  }
}
