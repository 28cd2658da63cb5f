import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';

/**
 * A Debian repository made by the test, the way one is made: each package built with
 * `dpkg-deb --build`, indexed with `dpkg-scanpackages`, a Release file beside the index (a flat
 * repository, `deb [trusted=yes] URL ./`, which is what `--repo 'URL ./'` gives). Served with
 * serveDirectory, a build container reaches it on loopback through host networking.
 */
export interface DebPackage {
  name: string;
  version: string;
  /** `all` (default) or a Debian architecture. */
  arch?: string;
  depends?: string;
  /** Files by absolute path: content and mode (default 0644). */
  files: Record<string, { data: Buffer | string; mode?: number }>;
}

async function must(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd ? { cwd } : {});
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Builds `p` as a .deb in `repo` (named as Debian names them) and returns its path. */
export async function buildDeb(repo: string, p: DebPackage): Promise<string> {
  const arch = p.arch ?? 'all';
  const root = path.join(repo, '.build', `${p.name}_${p.version}`);
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  const control = [
    `Package: ${p.name}`,
    `Version: ${p.version}`,
    `Architecture: ${arch}`,
    'Maintainer: yumda tests <tests@yumda.invalid>',
    ...(p.depends ? [`Depends: ${p.depends}`] : []),
    `Description: yumda test fixture ${p.name}`,
    '',
  ].join('\n');
  writeFileSync(path.join(root, 'DEBIAN', 'control'), control);
  for (const [file, { data, mode }] of Object.entries(p.files)) {
    const dest = path.join(root, file);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, data);
    chmodSync(dest, mode ?? 0o644);
  }
  const deb = path.join(repo, `${p.name}_${p.version}_${arch}.deb`);
  await must('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  return deb;
}

/** (Re)writes the repository's index: Packages and a Release naming its hash. */
export async function indexAptRepo(repo: string): Promise<void> {
  const packages = await must('dpkg-scanpackages', ['--multiversion', '.', '/dev/null'], repo);
  writeFileSync(path.join(repo, 'Packages'), packages);
  const sha = createHash('sha256')
    .update(readFileSync(path.join(repo, 'Packages')))
    .digest('hex');
  const release = ['Origin: yumda-test', 'Label: yumda-test', `Date: ${new Date().toUTCString()}`, 'SHA256:', ` ${sha} ${statSync(path.join(repo, 'Packages')).size} Packages`, ''];
  writeFileSync(path.join(repo, 'Release'), release.join('\n'));
}

/** A repository holding `packages`, indexed. */
export async function makeAptRepo(repo: string, packages: DebPackage[]): Promise<void> {
  mkdirSync(repo, { recursive: true });
  for (const p of packages) await buildDeb(repo, p);
  await indexAptRepo(repo);
}
