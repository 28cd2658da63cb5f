import type { Docker } from './client.js';
import { followProgress, ProgressError } from './progress.js';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tar from 'tar-stream';
import { UserError } from '../util/errors.js';
import { sha256 } from '../util/hash.js';

interface ContextFile {
  rel: string;
  data: Buffer;
  mode: number;
}

function listContext(dir: string): ContextFile[] {
  const out: ContextFile[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const st = statSync(path.join(dir, r));
      if (st.isDirectory()) walk(r);
      else out.push({ rel: r, data: readFileSync(path.join(dir, r)), mode: st.mode & 0o777 });
    }
  };
  walk('');
  return out;
}

/** A tag derived from the build context's content: a changed Dockerfile gives a new image. */
export function contextTag(dir: string): string {
  const h = listContext(dir)
    .map((f) => `${f.rel}\0${f.mode.toString(8)}\0${sha256(f.data)}\n`)
    .join('');
  return sha256(h).slice(0, 12);
}

/** The image a Dockerfile builds on: the first stage's FROM, with `${ARG}` replaced by the default of an ARG before it. */
export function dockerfileBase(dockerfile: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(dockerfile, 'utf8');
  } catch {
    return undefined;
  }
  return baseOfDockerfile(text);
}

export function baseOfDockerfile(text: string): string | undefined {
  const from = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)/im.exec(text);
  if (!from) return undefined;
  const args = new Map<string, string>();
  for (const m of text.slice(0, from.index).matchAll(/^\s*ARG\s+(\w+)=(\S+)/gim)) args.set(m[1]!, m[2]!);
  return from[1]!.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => args.get(name) ?? whole);
}

export async function imageExists(docker: Docker, ref: string): Promise<boolean> {
  try {
    await docker.getImage(ref).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

export interface BuildOptions {
  network?: string | undefined;
  platform?: string | undefined;
  buildArgs?: Record<string, string>;
  onLine?: (line: string) => void;
}

/** Builds `ref` from the Dockerfile context `dir`, sending the context as a tar stream. */
export async function buildImage(docker: Docker, ref: string, dir: string, opts: BuildOptions = {}): Promise<void> {
  const pack = tar.pack();
  for (const f of listContext(dir)) pack.entry({ name: f.rel, mode: f.mode, mtime: new Date(0) }, f.data);
  pack.finalize();
  const stream = await docker.buildImage(pack, {
    t: ref,
    rm: true,
    forcerm: true,
    ...(opts.network ? { networkmode: opts.network } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    ...(opts.buildArgs ? { buildargs: opts.buildArgs } : {}),
  });
  const tail: string[] = [];
  try {
    await followProgress(stream, (ev) => {
      const text = ev.stream ?? ev.status;
      if (!text) return;
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 15) tail.shift();
        opts.onLine?.(line);
      }
    });
  } catch (e) {
    if (!(e instanceof ProgressError)) throw e;
    throw new UserError(`building image ${ref} from ${dir} failed: ${e.message.trim()}`, {
      hint: tail.length ? `last output: ${tail.join(' | ')}` : undefined,
    });
  }
}

/** What identifies an image: its local ID, and its registry digests when it came from (or went to) a registry. */
export interface ImageIdentity {
  id: string;
  repoDigests: string[];
}

export async function imageIdentity(docker: Docker, ref: string): Promise<ImageIdentity> {
  const info = await docker.getImage(ref).inspect();
  return { id: info.Id, repoDigests: [...(info.RepoDigests ?? [])].sort() };
}
