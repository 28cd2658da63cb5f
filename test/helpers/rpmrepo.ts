import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli.js';

/**
 * An RPM repository made by the test, the way a distribution makes one: C programs and libraries
 * compiled here, packaged with rpmbuild (which generates the soname requirements and provides
 * itself), indexed with createrepo_c. Each case the rpm targets must handle is one package here.
 */

export interface FixturePackage {
  name: string;
  version: string;
  release?: string;
  epoch?: number;
  /** noarch, or the rpm architecture to build for (default: the machine's). */
  arch?: string;
  summary?: string;
  /** Files by absolute path: content, and whether executable. /etc files become %config. */
  files: Record<string, { data: Buffer | string; mode?: number }>;
  requires?: string[];
  recommends?: string[];
  provides?: string[];
  /**
   * Scriptlets by section, as a spec writes them after the `%`: `post`, `posttrans`,
   * `transfiletriggerin -- /usr/share/x` (rpmbuild adds their interpreter to the requirements).
   */
  scriptlets?: Record<string, string>;
}

async function must(cmd: string, args: string[], cwd?: string): Promise<string> {
  const r = await run(cmd, args, cwd ? { cwd } : {});
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** gcc with the given arguments, in `dir`; `cc` names a cross compiler (aarch64-linux-gnu-gcc). */
export async function gcc(dir: string, args: string[], cc = 'gcc'): Promise<void> {
  await must(cc, args, dir);
}

function specFor(p: FixturePackage): string {
  const lines = [
    `Name: ${p.name}`,
    `Version: ${p.version}`,
    `Release: ${p.release ?? '1'}`,
    ...(p.epoch !== undefined ? [`Epoch: ${p.epoch}`] : []),
    `Summary: ${p.summary ?? `yumda test fixture ${p.name}`}`,
    'License: MIT',
    ...(p.arch === 'noarch' ? ['BuildArch: noarch'] : []),
    ...(p.requires ?? []).map((r) => `Requires: ${r}`),
    ...(p.recommends ?? []).map((r) => `Recommends: ${r}`),
    ...(p.provides ?? []).map((r) => `Provides: ${r}`),
    '%global debug_package %{nil}',
    '%global _build_id_links none',
    '%global __brp_strip /bin/true',
    '',
    '%description',
    `Test fixture ${p.name}.`,
    '',
    '%install',
    'mkdir -p %{buildroot}',
    'cp -a %{_sourcedir}/payload/. %{buildroot}/',
    '',
    '%files',
    ...Object.keys(p.files)
      .sort()
      .map((f) => (f.startsWith('/etc/') ? `%config(noreplace) ${f}` : f)),
    '',
    ...Object.entries(p.scriptlets ?? {}).flatMap(([section, body]) => [`%${section}`, body, '']),
  ];
  return lines.join('\n');
}

/** Builds one package; returns the path of the .rpm. */
export async function buildRpm(work: string, p: FixturePackage): Promise<string> {
  const id = `${p.name}-${p.epoch ?? 0}-${p.version}-${p.release ?? '1'}-${p.arch ?? 'native'}`;
  const src = path.join(work, 'src', id);
  for (const [f, { data, mode }] of Object.entries(p.files)) {
    const dest = path.join(src, 'payload', f);
    mkdirSync(path.dirname(dest), { recursive: true });
    writeFileSync(dest, data);
    chmodSync(dest, mode ?? 0o644);
  }
  if (Object.keys(p.files).length === 0) mkdirSync(path.join(src, 'payload'), { recursive: true });
  const spec = path.join(src, `${p.name}.spec`);
  writeFileSync(spec, specFor(p));
  const top = path.join(work, 'rpmbuild');
  const args = ['-bb', '--nodeps', '--define', `_topdir ${top}`, '--define', `_sourcedir ${src}`];
  if (p.arch && p.arch !== 'noarch') args.push('--target', p.arch);
  const out = await must('rpmbuild', [...args, spec]);
  const m = /Wrote: (\S+\.rpm)/.exec(out);
  if (!m) throw new Error(`rpmbuild wrote no package for ${p.name}: ${out}`);
  return m[1]!;
}

/** rpm's own answer for a package file: its requires or provides (with versions). */
export async function rpmQuery(file: string, tag: 'REQUIRENEVRS' | 'PROVIDENEVRS'): Promise<string[]> {
  return (await must('rpm', ['-qp', '--nosignature', '--qf', `[%{${tag}}\\n]`, file])).split('\n').filter(Boolean);
}

/** Copies the packages into `repo` (adding to what it has) and indexes it with createrepo_c. */
export async function makeRepo(repo: string, rpms: string[]): Promise<void> {
  mkdirSync(path.join(repo, 'Packages'), { recursive: true });
  for (const f of rpms) writeFileSync(path.join(repo, 'Packages', path.basename(f)), readFileSync(f));
  await indexRepo(repo);
}

/** Indexes what `repo` holds now, as a distribution publishes an update (or withdraws a package). */
export async function indexRepo(repo: string): Promise<void> {
  await must('createrepo_c', ['--quiet', repo]);
}

export function listRpms(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.rpm'));
}
