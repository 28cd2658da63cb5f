import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readZip } from '../helpers/zip.js';
import { runYumda, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

interface InstallJson {
  packages: Array<{ name: string }>;
  cache: { planReused: boolean; packagesFetched: number; packagesCached: number; buildReused: boolean };
  stats: { maxRssBytes: number; timeline: Array<{ atMs: number; event: string }> };
}

describe('the build cache', () => {
  const cacheDir = tempDir('yumda-cache-');
  const work = tempDir('yumda-cache-out-');
  const first = {} as { a: CliResult; b: CliResult };
  /** What a build says of its layer: its --json without where it went, what the caches saved and how long it took. */
  const said = (stdout: string) => {
    const {
      output,
      cache: _cache,
      stats: _stats,
      scripts,
      ...rest
    } = JSON.parse(stdout) as Record<string, unknown> & {
      output: Record<string, unknown>;
      scripts: Record<string, unknown>;
    };
    const { path: _path, sbom: _sbom, ...where } = output;
    const { reused: _reused, ...ran } = scripts;
    return { ...rest, output: where, scripts: ran };
  };

  it('two builds at once on one empty cache both produce correct, identical layers', async () => {
    [first.a, first.b] = await Promise.all([
      runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', path.join(work, 'a.zip'), '--cache-dir', cacheDir, '--json']),
      runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', path.join(work, 'b.zip'), '--cache-dir', cacheDir, '--json']),
    ]);
    const { a, b } = first;
    expect(a.stderr).not.toMatch(/error/);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const za = readFileSync(path.join(work, 'a.zip'));
    expect(za.equals(readFileSync(path.join(work, 'b.zip')))).toBe(true);
    const names = (await readZip(path.join(work, 'a.zip'))).map((e) => e.name);
    expect(names).toContain('bin/pdftoppm');
    expect(names).toContain('lib/libpoppler.so.126');
    expect(names).toContain('etc/fonts/fonts.conf');
  });

  it('a warm rebuild reuses the plan and every package, and gives the same bytes', async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--out', path.join(work, 'c.zip'), '--cache-dir', cacheDir, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as InstallJson;
    expect(out.cache).toEqual({ planReused: true, packagesFetched: 0, packagesCached: out.packages.length, buildReused: true });
    expect(readFileSync(path.join(work, 'c.zip')).equals(readFileSync(path.join(work, 'a.zip')))).toBe(true);
    // the finished build is reused (src/pipeline/reuse.ts): nothing staged or relocated, the same report
    const steps = out.stats.timeline.map((t) => t.event);
    expect(steps).toContain('layer reused: the same request, plan and yumda as a finished build in the cache');
    expect(steps.some((s) => s.startsWith('relocating'))).toBe(false);
    expect(said(r.stdout)).toEqual(said(first.a.stdout));
  });

  it('the same packages with another option (--keep-docs) are built anew, not reused', async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--keep-docs', '--out', path.join(work, 'docs.zip'), '--cache-dir', cacheDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as InstallJson;
    expect(out.cache.buildReused).toBe(false);
    expect(out.stats.timeline.map((t) => t.event).some((s) => s.startsWith('relocating'))).toBe(true);
    expect((await readZip(path.join(work, 'docs.zip'))).some((e) => e.name.startsWith('share/doc/'))).toBe(true);
    expect((await readZip(path.join(work, 'a.zip'))).some((e) => e.name.startsWith('share/doc/'))).toBe(false);
  });

  it('--refresh builds anew what it would have reused, and the same bytes come out', async () => {
    const r = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--refresh', '--out', path.join(work, 'refreshed.zip'), '--cache-dir', cacheDir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as InstallJson;
    expect(out.cache.buildReused).toBe(false);
    expect(out.stats.timeline.map((t) => t.event).some((s) => s.startsWith('relocating'))).toBe(true);
    expect(readFileSync(path.join(work, 'refreshed.zip')).equals(readFileSync(path.join(work, 'a.zip')))).toBe(true);
  });

  it('changing the package set fetches only the packages not cached yet', async () => {
    const r = await runYumda(['install', 'poppler-utils', 'fontconfig', '--target', 'debian12', '--out', path.join(work, 'd.zip'), '--cache-dir', cacheDir, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as InstallJson;
    expect(out.cache.planReused).toBe(false);
    expect(out.cache.packagesFetched).toBeGreaterThan(0);
    expect(out.cache.packagesFetched).toBeLessThan(5);
    expect(out.cache.packagesCached).toBeGreaterThanOrEqual(32);
  });

  it('cache info shows the parts, and clean empties them', async () => {
    const info = await runYumda(['cache', 'info', '--cache-dir', cacheDir, '--json']);
    const parts = JSON.parse(info.stdout).parts as Array<{ name: string; files: number }>;
    expect(parts.find((p) => p.name === 'packages')!.files).toBeGreaterThanOrEqual(33);
    expect((await runYumda(['cache', 'clean', '--cache-dir', cacheDir])).code).toBe(0);
    const after = JSON.parse((await runYumda(['cache', 'info', '--cache-dir', cacheDir, '--json'])).stdout).parts as Array<{ files: number }>;
    expect(after.every((p) => p.files === 0)).toBe(true);
  });
});
