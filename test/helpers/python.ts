import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What an interpreter says its version is, or undefined when it does not run. */
function versionOf(bin: string): [number, number] | undefined {
  try {
    const out = execFileSync(bin, ['-c', 'import sys; print("%d %d" % sys.version_info[:2])'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const [major, minor] = out.trim().split(' ').map(Number);
    return [major!, minor!];
  } catch {
    return undefined;
  }
}

/**
 * Where pyenv keeps its interpreters. CI runs non-interactively, without the shell start-up files
 * that put pyenv on PATH, so its usual homes are looked at too.
 */
export function pyenvRoots(): string[] {
  const roots = [process.env.PYENV_ROOT];
  try {
    roots.push(execFileSync('pyenv', ['root'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // pyenv is not on PATH
  }
  roots.push(path.join(os.homedir(), '.pyenv'), '/root/.pyenv');
  return [...new Set(roots.filter((r): r is string => !!r && existsSync(path.join(r, 'versions'))))];
}

/** A Python 2.7 that pyenv installed (AL2's yum runs on 2.7; Debian has none), the newest patch release. */
export function findPython27(): string | undefined {
  for (const root of pyenvRoots()) {
    const versions = readdirSync(path.join(root, 'versions'))
      .filter((v) => /^2\.7(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b.split('.')[2] ?? 0) - Number(a.split('.')[2] ?? 0));
    for (const v of versions) {
      const bin = path.join(root, 'versions', v, 'bin', 'python');
      const got = versionOf(bin);
      if (got?.[0] === 2 && got[1] === 7) return bin;
    }
  }
  return undefined;
}

/** `python3` on PATH as the file it runs (not pyenv's shim, a script that starts slowly), when it runs. */
export function findPython3(): string | undefined {
  try {
    const exe = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return versionOf(exe)?.[0] === 3 ? exe : undefined;
  } catch {
    return undefined;
  }
}
