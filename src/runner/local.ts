import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { lineSplitter } from '../docker/container.js';
import type { Target } from '../registry/types.js';
import { onInterrupt } from '../util/cleanup.js';
import { UserError } from '../util/errors.js';
import type { ExecOptions, ExecResult, Runner } from './types.js';

/** Where the backends keep their work (apt configuration, downloads, the staged tree). */
export const WORK_ROOT = '/yumda';

/** What `build image` reads as in the plan when nothing runs in a container. */
export function localDescription(target: Target): string {
  return `this machine (--local, ${target.distro.name} ${target.distro.version})`;
}

/** ID and VERSION_ID of /etc/os-release. */
export function osRelease(text: string): { id: string; versionId: string } {
  const get = (k: string) => new RegExp(`^${k}=(?:"([^"]*)"|(\\S*))`, 'm').exec(text);
  const id = get('ID');
  const v = get('VERSION_ID');
  return { id: id?.[1] ?? id?.[2] ?? '', versionId: v?.[1] ?? v?.[2] ?? '' };
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, cmd)));
}

/** Refuses to run the target's package manager on a machine of another distribution. */
export function checkLocalMachine(target: Target, osReleaseText: string | undefined): void {
  const want = `${target.distro.name} ${target.distro.version}`;
  const have = osReleaseText === undefined ? undefined : osRelease(osReleaseText);
  if (!have || have.id !== target.distro.name || have.versionId !== target.distro.version) {
    throw new UserError(
      `--local runs ${target.packageManager} on this machine, which must be ${want} for target ${target.id}; this machine is ${have ? `${have.id || '?'} ${have.versionId || '?'}` : 'of unknown distribution (no /etc/os-release)'}`,
      { hint: "run it in a Dockerfile stage FROM the target's distribution (see `yumda install --dockerfile`), or drop --local to use a build container" },
    );
  }
}

/**
 * Runs the package manager's steps on this machine: meant for a Dockerfile stage FROM the target's
 * distribution, where yumda has no Docker engine. Work goes under /yumda, which must not exist
 * yet and is removed at the end (and on Ctrl-C).
 */
export class LocalRunner implements Runner {
  exec(cmd: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    // opts.user is for containers; here the steps run as whoever runs yumda
    return new Promise((resolve, reject) => {
      const child = spawn(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: string[] = [];
      const err: string[] = [];
      const drained = [child.stdout.pipe(lineSplitter(opts.onStdoutLine, out)), child.stderr.pipe(lineSplitter(opts.onStderrLine, err))].map(
        (s) => new Promise((r) => s.on('end', r)),
      );
      child.on('error', (e) => reject(new UserError(`cannot run ${cmd[0]} on this machine: ${(e as NodeJS.ErrnoException).code ?? e}`)));
      child.on('close', (code) => {
        void Promise.all(drained).then(() => resolve({ exitCode: code ?? -1, stdout: out.join('\n'), stderr: err.join('\n') }));
      });
    });
  }

  putArchive(dir: string, tarball: Buffer | Readable): Promise<void> {
    mkdirSync(dir, { recursive: true });
    return this.tar(['-x', '-C', dir, '--no-same-owner'], tarball);
  }

  async getArchive(p: string): Promise<Readable> {
    const child = spawn('tar', ['-c', '-C', path.dirname(p), path.basename(p)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const out = child.stdout;
    child.on('close', (code) => {
      if (code !== 0) out.destroy(new Error(`tar -c ${p} failed: ${stderr.trim()}`));
    });
    return out;
  }

  private tar(args: string[], input: Buffer | Readable): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn('tar', args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`tar ${args.join(' ')} failed: ${stderr.trim()}`))));
      (Buffer.isBuffer(input) ? Readable.from([input]) : input).pipe(child.stdin);
    });
  }
}

/**
 * Checks the machine and creates /yumda; returns what removes it again (also run on Ctrl-C).
 */
export function openLocalWork(target: Target): () => void {
  checkLocalMachine(target, existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : undefined);
  if (!onPath('tar') || !onPath(target.packageManager === 'apt' ? 'apt-get' : target.packageManager)) {
    throw new UserError(`--local needs ${target.packageManager} and tar on this machine's PATH`);
  }
  if (existsSync(WORK_ROOT)) {
    throw new UserError(`--local keeps its work in ${WORK_ROOT}, which already exists on this machine`, { hint: `remove it (a previous run that was killed leaves it behind)` });
  }
  try {
    mkdirSync(WORK_ROOT);
  } catch (e) {
    throw new UserError(`--local keeps its work in ${WORK_ROOT} and cannot create it (${(e as NodeJS.ErrnoException).code ?? e})`, {
      hint: 'run it as root, as a Dockerfile stage does',
    });
  }
  const clean = () => rmSync(WORK_ROOT, { recursive: true, force: true });
  const forget = onInterrupt(async () => clean());
  return () => {
    forget();
    clean();
  };
}
