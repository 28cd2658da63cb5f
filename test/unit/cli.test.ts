import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runYumda } from '../helpers/cli.js';
import { errorReport, UserError } from '../../src/util/errors.js';
import { tempDir } from '../helpers/tmp.js';

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
    const line = await expectOneLineError(['install', 'curl', '--target', 'debian12'], /^yumda: error: the Docker engine is not reachable at unix:\/\/.*nothing\.sock/, {
      DOCKER_HOST: `unix://${sock}`,
    });
    expect(line).toMatch(/start the Docker engine|DOCKER_HOST/);
  });

  it('control characters in arguments are shown escaped, on one line (issue 19, item 12)', async () => {
    const cases: Array<[string[], string]> = [
      [['install', '\x1b[2J\x1b[Hjq', '--target', 'debian12'], '\\x1b[2J\\x1b[Hjq'],
      [['install', 'j\nq', '--target', 'debian12'], 'j\\nq'],
      [['install', 'jq', '--target', 'deb\rian\u202e12'], 'deb\\rian\\u202e12'],
      [['install', 'jq', '--target', 'debian12', '--arch', 'x86\x0764'], 'x86\\x0764'],
    ];
    for (const [args, shown] of cases) {
      const line = await expectOneLineError(args, /^yumda: error: /);
      expect(line).toContain(shown);
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
    }
  });

  it('unknown target names the Amazon Linux ones too', async () => {
    await expectOneLineError(['install', 'git', '--target', 'al2024'], /^yumda: error: unknown target 'al2024'; known targets: al2, al2023, debian12, debian13 \(yumda targets\)$/);
  });

  it('unknown architecture with the default target (al2023)', async () => {
    await expectOneLineError(['install', 'git', '--arch', 'ppc64le'], /^yumda: error: unknown architecture 'ppc64le'; use one of x86_64, arm64$/);
  });

  it('a runtime manifest of the wrong family or that does not exist', async () => {
    await expectOneLineError(
      ['install', 'git', '--runtime-manifest', path.join(process.cwd(), 'registry/runtimes/debian12.json')],
      /^yumda: error: .*debian12\.json: a deb runtime cannot be the runtime of al2023, an rpm target$/,
    );
    await expectOneLineError(['install', 'git', '--runtime-manifest', '/nonexistent/runtime.json'], /^yumda: error: \/nonexistent\/runtime\.json: cannot read \(ENOENT\)$/);
  });

  it('--no-default-repos without --repo', async () => {
    await expectOneLineError(['install', 'git', '--no-default-repos'], /^yumda: error: --no-default-repos leaves no repository: add at least one --repo$/);
  });

  it('--keep-unusable with a group the data does not have', async () => {
    await expectOneLineError(
      ['install', 'git', '--keep-unusable', 'gpu'],
      /^yumda: error: no group 'gpu' of what cannot work on Lambda to keep \(--keep-unusable, or keep\.unusable in a manifest\); groups: gpu-drivers, services, sound-servers, or all$/,
    );
  });

  it('lists targets', async () => {
    const r = await runYumda(['targets', '--json']);
    expect(r.code).toBe(0);
    const targets = JSON.parse(r.stdout) as Array<{ id: string; default: boolean; legacy: boolean; endOfSupport?: string; runtime: { packages: number } }>;
    expect(targets.find((t) => t.id === 'debian12')?.runtime.packages).toBeGreaterThan(50);
    // Amazon Linux 2 reached end of support (registry/targets/al2.json says so): listed last; al2023 is the default
    expect(targets.map((t) => [t.id, t.default, t.legacy, t.endOfSupport])).toEqual([
      ['al2023', true, false, undefined],
      ['debian12', false, false, undefined],
      ['debian13', false, false, undefined],
      ['al2', false, true, '2026-06-30'],
    ]);
    expect(targets.find((t) => t.id === 'debian13')?.runtime.packages).toBeGreaterThan(50);
    const text = await runYumda(['targets']);
    expect(text.stdout).toMatch(/^debian13 {2}Debian 13 \(trixie\)/m);
    // a deprecated runtime says since when
    expect(text.stdout).toMatch(/^ {2}Lambda: .*python3\.9 \(deprecated 2025-12-15\)/m);
    expect(text.stdout).toMatch(/^al2 \(legacy: end of support 2026-06-30\) {2}Amazon Linux 2:/m);
    expect(text.stdout).toMatch(/^al2023 \(default\) {2}Amazon Linux 2023/m);
    expect(text.stdout.match(/^\S+/gm)).toEqual(['al2023', 'debian12', 'debian13', 'al2']);
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

describe('the one way errors reach the terminal', () => {
  it('escapes control characters in a UserError, its hint and an internal error', () => {
    expect(errorReport(new UserError('bad \x1b[2J\nname', { hint: 'try\r\u202eagain' }))).toBe('yumda: error: bad \\x1b[2J\\nname; try\\r\\u202eagain\n');
    const internal = errorReport(new Error('boom\n\x1b[31mred'));
    expect(internal.split('\n')[0]).toBe('yumda: internal error: boom\\n\\x1b[31mred');
    expect(internal).not.toMatch(/\x1b/);
    expect(
      internal
        .split('\n')
        .slice(1, -1)
        .every((l) => /^\s+at /.test(l)),
    ).toBe(true);
  });
});

describe("commander's errors and --json failures go the one way", () => {
  it.each([
    [['install', '--bogus', 'jq'], "yumda: error: unknown option '--bogus'; run yumda install --help for usage"],
    [['install'], "yumda: error: missing required argument 'packages'; run yumda install --help for usage"],
    [['frob'], "yumda: error: unknown command 'frob'; run yumda --help for usage"],
    [['cache', 'clean', '--wat'], "yumda: error: unknown option '--wat'; run yumda cache clean --help for usage"],
    [['inspect', 'a.zip', '--top'], "yumda: error: option '--top <n>' argument missing; run yumda inspect --help for usage"],
  ])('%j: one line with the yumda prefix, exit 1', async (args, line) => {
    const r = await runYumda(args);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([line]);
    expect(r.stdout).toBe('');
  });

  it('help and --version are not errors', async () => {
    const v = await runYumda(['--version']);
    expect([v.code, v.stderr]).toEqual([0, '']);
    const h = await runYumda(['install', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^Usage: yumda install/);
  });

  it('with --json, a failure is also a JSON object on stdout, under the same exit code', async () => {
    const d = tempDir();
    const missing = await runYumda(['inspect', 'nothing.zip', '--json'], { cwd: d });
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^yumda: error: .*nothing\.zip/)]);
    expect(JSON.parse(missing.stdout)).toEqual({ error: expect.stringMatching(/nothing\.zip/) });

    const target = await runYumda(['install', 'jq', '--target', 'centos5', '--json'], { cwd: d });
    expect(target.code).toBe(1);
    const doc = JSON.parse(target.stdout) as { error: string; hint: string };
    expect(doc.error).toBe("unknown target 'centos5'");
    expect(doc.hint).toMatch(/^known targets: /);
    expect(target.stderr.trim()).toBe(`yumda: error: ${doc.error}; ${doc.hint}`);

    // commander's own errors too, when --json was on the command line
    const option = await runYumda(['verify', 'x.zip', '--json', '--bogus'], { cwd: d });
    expect(option.code).toBe(1);
    expect(JSON.parse(option.stdout)).toEqual({ error: "unknown option '--bogus'", hint: 'run yumda verify --help for usage' });
    // and without --json, stdout stays empty
    const plain = await runYumda(['inspect', 'nothing.zip'], { cwd: d });
    expect(plain.stdout).toBe('');
  });
});
