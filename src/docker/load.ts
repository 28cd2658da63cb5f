import type { Docker } from './client.js';
import { followProgress, ProgressError } from './progress.js';
import { createReadStream } from 'node:fs';
import { UserError } from '../util/errors.js';

/**
 * Loads an image tarball (`docker save` layout) into the engine through its API, as `docker load`
 * does; works with a remote engine since the tarball travels in the request body.
 */
export async function loadImageTarball(docker: Docker, file: string, onLine?: (line: string) => void): Promise<string[]> {
  const stream = await docker.loadImage(createReadStream(file), { quiet: true });
  const loaded: string[] = [];
  try {
    await followProgress(stream, (ev) => {
      for (const line of (ev.stream ?? '').split('\n')) {
        if (!line.trim()) continue;
        const m = /^Loaded image(?: ID)?: (\S+)/.exec(line.trim());
        if (m) loaded.push(m[1]!);
        onLine?.(line.trim());
      }
    });
  } catch (e) {
    if (!(e instanceof ProgressError)) throw e;
    throw new UserError(`the Docker engine refused the image: ${e.message.trim()}`);
  }
  return loaded;
}
