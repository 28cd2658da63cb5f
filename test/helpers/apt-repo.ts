import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';
import { serveDirectory } from './serve.js';
import { tempDir } from './tmp.js';

/**
 * A flat apt repository made by the test, as a distribution makes one: each package built with
 * dpkg-deb from a tree the test lays out (so hostile names, FIFOs and device nodes are real
 * files), a Packages index with each file's size and SHA-256, and a Release file, served on
 * loopback. Build containers reach it through host networking; yumda takes it as
 * `--repo "URL ./"` (`deb [trusted=yes] URL ./`), with `--no-default-repos` needing no mirror.
 *
 * What dpkg-deb cannot make, a data.tar of the test's own making replaces (GNU tar with
 * --sparse, or -P for absolute member names): `dataTar` gets the package's tree and returns the
 * arguments tar takes after `-cf FILE`.
 */
export interface DebPackage {
  name: string;
  version: string;
  /** amd64 (default) or all. */
  arch?: string;
  depends?: string;
  /** Lays out the package's files under `root` (as root: mknod and mkfifo work). */
  tree?: (root: string) => void | Promise<void>;
  dataTar?: (root: string) => string[];
}

async function must(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd ? { cwd } : {});
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Builds one .deb into `out`; returns its path. */
export async function buildDeb(work: string, p: DebPackage, out: string): Promise<string> {
  const arch = p.arch ?? 'amd64';
  const root = path.join(work, `${p.name}_${p.version}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
  chmodSync(root, 0o755);
  // a tree for the test's own data.tar is laid out after dpkg-deb ran on an empty one: dpkg-deb
  // would read a sparse file's holes as zeros and compress every one of them
  if (!p.dataTar) await p.tree?.(root);
  const control = [
    `Package: ${p.name}`,
    `Version: ${p.version}`,
    `Architecture: ${arch}`,
    'Maintainer: yumda tests <tests@yumda.invalid>',
    ...(p.depends ? [`Depends: ${p.depends}`] : []),
    `Description: yumda test package ${p.name}`,
    '',
  ].join('\n');
  writeFileSync(path.join(root, 'DEBIAN', 'control'), control);
  const deb = path.join(out, `${p.name}_${p.version}_${arch}.deb`);
  await must('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', root, deb]);
  if (p.dataTar) {
    // the same .deb with the test's own data.tar in place of dpkg-deb's
    const parts = path.join(work, `${p.name}.parts`);
    rmSync(parts, { recursive: true, force: true });
    mkdirSync(parts);
    await must('ar', ['x', deb], parts);
    rmSync(path.join(parts, 'data.tar.gz'));
    rmSync(path.join(root, 'DEBIAN'), { recursive: true });
    await p.tree?.(root);
    await must('tar', ['--owner=0', '--group=0', '--numeric-owner', '-cf', path.join(parts, 'data.tar'), ...p.dataTar(root)], root);
    const rebuilt = `${deb}.new`;
    await must('ar', ['rc', rebuilt, 'debian-binary', 'control.tar.gz', 'data.tar'], parts);
    renameSync(rebuilt, deb);
  }
  return deb;
}

/** Builds the packages into a flat repository directory (Packages, Release, the .debs). */
export async function buildAptRepo(packages: DebPackage[], dir = tempDir('yumda-apt-repo-')): Promise<string> {
  const work = tempDir('yumda-apt-build-');
  const stanzas: string[] = [];
  for (const p of packages) {
    const deb = await buildDeb(work, p, dir);
    const fields = (await must('dpkg-deb', ['-f', deb])).trimEnd();
    stanzas.push(`${fields}\nFilename: ./${path.basename(deb)}\nSize: ${statSync(deb).size}\nSHA256: ${sha256(deb)}\n`);
  }
  const index = path.join(dir, 'Packages');
  writeFileSync(index, stanzas.join('\n'));
  writeFileSync(
    path.join(dir, 'Release'),
    ['Origin: yumda-tests', 'Label: yumda-tests', 'Suite: ./', 'SHA256:', ` ${sha256(index)} ${statSync(index).size} Packages`, ''].join('\n'),
  );
  rmSync(work, { recursive: true, force: true });
  return dir;
}

/** Builds the repository and serves it on loopback: `repo` is what `--repo` takes. */
export async function serveAptRepo(packages: DebPackage[]): Promise<{ dir: string; repo: string; url: string; close: () => Promise<void> }> {
  const dir = await buildAptRepo(packages);
  const served = await serveDirectory(dir);
  return { dir, repo: `${served.url} ./`, url: served.url, close: served.close };
}
