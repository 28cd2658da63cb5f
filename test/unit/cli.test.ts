import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/cc.js';

/** Bad input: exactly one line on stderr, a non-zero exit, and no output file. */
async function expectOneLineError(args: string[], pattern: RegExp, env: Record<string, string> = {}) {
  const d = tempDir();
  const r = await runYumda([...args, '--out', path.join(d, 'x.zip')], { env, cwd: d });
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(existsSync(path.join(d, 'x.zip'))).toBe(false);
  return lines[0]!;
}

describe('CLI errors (no Docker needed)', () => {
  it('unknown target', async () => {
    await expectOneLineError(['install', 'curl', '--target', 'centos5'], /^yumda: error: unknown target 'centos5'; known targets: .*debian12/);
  });

  it('unknown architecture', async () => {
    await expectOneLineError(['install', 'curl', '--target', 'debian12', '--arch', 'mips'], /^yumda: error: unknown architecture 'mips'; use one of x86_64, arm64$/);
  });

  it('a package argument that is not a name', async () => {
    await expectOneLineError(['install', 'curl;rm', '--target', 'debian12'], /is not a package name/);
  });

  it('a Docker engine that does not answer: says so and how to fix it', async () => {
    const sock = path.join(tempDir(), 'nothing.sock');
    const line = await expectOneLineError(['install', 'curl', '--target', 'debian12'], /^yumda: error: the Docker engine is not reachable at unix:\/\/.*nothing\.sock/, { DOCKER_HOST: `unix://${sock}` });
    expect(line).toMatch(/start the Docker engine|DOCKER_HOST/);
  });

  it('lists targets', async () => {
    const r = await runYumda(['targets', '--json']);
    expect(r.code).toBe(0);
    const targets = JSON.parse(r.stdout) as Array<{ id: string; runtime: { packages: number } }>;
    expect(targets.find((t) => t.id === 'debian12')?.runtime.packages).toBeGreaterThan(50);
  });

  it('lists the recipes, and rejects a recipe with a wrong field naming file and field', async () => {
    const ok = await runYumda(['recipes']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^fontconfig {2}\(deb: libfontconfig1/m);
    const d = tempDir();
    writeFileSync(path.join(d, 'bad.json'), JSON.stringify({ name: 'bad', description: 'x', packages: { deb: ['x'] }, smoke: [{ run: 'true', expect: 'x', timeout: 3 }] }));
    const bad = await runYumda(['recipes', '--recipes', d]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toEqual([`yumda: error: ${path.join(d, 'bad.json')}: in 'smoke.0': unknown field 'timeout'`]);
    await expectOneLineError(['install', 'curl', '--target', 'debian12', '--recipes', d], /bad\.json: in 'smoke\.0': unknown field 'timeout'/);
  });
});
