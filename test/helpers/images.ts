import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { contextTag } from '../../src/docker/images.js';
import { run } from './cli.js';

/**
 * Builds an image the tests need from a Dockerfile context, tagged by the context's content (as
 * yumda tags build images), so a rerun with the same Dockerfile reuses it.
 */
export async function ensureTestImage(name: string, contextDir: string): Promise<string> {
  const ref = `${name}:${contextTag(contextDir)}`;
  if ((await run('docker', ['image', 'inspect', ref])).code === 0) return ref;
  const r = await run('docker', ['build', '-q', '--network', 'host', '-t', ref, contextDir]);
  if (r.code !== 0) throw new Error(`building ${ref} from ${contextDir} failed: ${r.stderr}`);
  return ref;
}

/** An image from a Dockerfile text and files written into a fresh context directory. */
export async function imageFrom(name: string, dir: string, dockerfile: string, files: Record<string, Buffer | string> = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  for (const [f, data] of Object.entries(files)) writeFileSync(path.join(dir, f), data);
  return ensureTestImage(name, dir);
}
