import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { checkLocked, checkRequest, isPackageName, isVersion } from '../../src/resolve/names.js';
import { readLock } from '../../src/project/lock.js';
import { loadProject } from '../../src/project/manifest.js';
import { repoRoot, runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/** Issue 19, item 9: a lock's version once wrote its own stanzas into apt's preferences. */
const INJECTION = '*\nPin-Priority: -10\n\nPackage: zzz-none\nPin: version 1';

describe('package names and versions: each family its own grammar (issue 19, item 9)', () => {
  // every real package of the runtimes yumda ships manifests for, and the AL2023 image's rpm database
  const al2023 = readFileSync(path.join(repoRoot, '../shared/fixtures/amazonlinux2023-image/packages.csv'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split('¶'))
    .map((f) => ({ name: f[1]!, version: `${f[2]}-${f[3]}` }));
  const real = {
    deb: loadRuntime('debian12').packages,
    rpm: [...loadRuntime('provided.al2023').packages, ...loadRuntime('provided.al2').packages, ...al2023],
  };

  it.each(['deb', 'rpm'] as const)('accepts every real %s package name and version', (family) => {
    expect(real[family].length).toBeGreaterThan(50);
    expect(real[family].filter((p) => !isPackageName(family, p.name)).map((p) => p.name)).toEqual([]);
    expect(real[family].filter((p) => !isVersion(family, p.version)).map((p) => `${p.name} ${p.version}`)).toEqual([]);
  });

  const bad: Array<[string, 'deb' | 'rpm', string, string | undefined]> = [
    ['a version holding apt preferences', 'deb', 'jq', INJECTION],
    ['a path as a version', 'deb', 'jq', '../../x'],
    ['a glob', 'deb', 'jq', '1.6*'],
    ['a colon without an epoch', 'deb', 'jq', 'a:1.6'],
    ['an empty revision', 'deb', 'jq', '1.6-'],
    ['an uppercase Debian name', 'deb', 'JQ', undefined],
    ['a one-letter Debian name', 'deb', 'j', undefined],
    ['an underscore in a Debian name', 'deb', 'j_q', undefined],
    ['a name starting with -', 'rpm', '-jq', undefined],
    ['a newline in an rpm version', 'rpm', 'jq', '1.6\n-2'],
    ['two hyphens in an rpm version', 'rpm', 'jq', '1.6-2-3'],
    ['a path in an rpm version', 'rpm', 'jq', '../../x'],
    ['a space in an rpm name', 'rpm', 'j q', undefined],
  ];
  it.each(bad)('refuses %s in one line', (_, family, name, version) => {
    const r = version === undefined ? { name } : { name, version };
    expect(() => checkRequest(family, r, "'arg'")).toThrow(
      new RegExp(`^'arg': (version '[^]*' of ${name} is not an? (Debian|rpm) version|'${name}' is not an? (Debian|rpm) package name)`),
    );
  });

  it('accepts the shapes the families use', () => {
    for (const v of ['1:2.38.1-5+deb12u3', '22.12.0-2+deb12u3', '1.6', '2:8.2.3995-1+deb12u2~bpo11', '1.0~rc1-1']) expect(isVersion('deb', v), v).toBe(true);
    for (const v of ['1.6', '1.6-2.amzn2023', '1:1.1.1k-5.amzn2023.0.1', '0.9^20230101-1', '2.0~rc1']) expect(isVersion('rpm', v), v).toBe(true);
    expect(() => checkLocked('deb', { name: 'jq', version: '1.6-2.1', arch: 'amd64\nx' }, 'lock')).toThrow(/architecture 'amd64\nx' of jq is not an architecture name/);
  });
});

describe('every way in refuses them before any work', () => {
  // an engine that cannot answer: the refusal must come before anything needs one
  const noEngine = { DOCKER_HOST: 'unix:///nonexistent.sock' };

  it('the command line: install and image', async () => {
    const d = tempDir();
    for (const cmd of [['install'], ['image']]) {
      const r = await runYumda([...cmd, 'jq=../../x', '--target', 'debian12'], { cwd: d, env: noEngine });
      expect([r.code, r.stderr.trim().split('\n')]).toEqual([
        1,
        [expect.stringMatching(/^yumda: error: 'jq=\.\.\/\.\.\/x': version '\.\.\/\.\.\/x' of jq is not a Debian version/)],
      ]);
    }
    const rpm = await runYumda(['install', 'jq=1.6\n-2'], { cwd: d, env: noEngine });
    expect(rpm.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^yumda: error: 'jq=1\.6\\n-2' is not a package name/)]);
  });

  it('a manifest', async () => {
    const d = tempDir();
    writeFileSync(path.join(d, 'yumda.yaml'), 'layers:\n  - name: tools\n    target: debian12\n    packages: [jq, "Curl"]\n');
    expect(() => loadProject(path.join(d, 'yumda.yaml'))).toThrow("yumda.yaml: field 'layers.0.packages.1': 'Curl' is not a Debian package name");
    const r = await runYumda(['build'], { cwd: d, env: noEngine });
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^yumda: error: yumda\.yaml: field 'layers\.0\.packages\.1': 'Curl' is not a Debian package name/)]);
  });

  it('a lock whose version would write apt preferences', async () => {
    const d = tempDir();
    mkdirSync(path.join(d, 'p'));
    writeFileSync(path.join(d, 'p', 'yumda.yaml'), 'layers:\n  - name: tools\n    target: debian12\n    packages: [jq]\n');
    const layer = {
      name: 'tools',
      arch: 'x86_64',
      target: 'debian12',
      requested: [{ name: 'jq' }],
      repositories: [],
      buildImage: { ref: 'x', id: 'y' },
      packages: [{ name: 'jq', version: INJECTION, arch: 'amd64' }],
    };
    writeFileSync(path.join(d, 'p', 'yumda.lock'), JSON.stringify({ lockfileVersion: 1, layers: [layer] }));
    expect(() => readLock(path.join(d, 'p', 'yumda.lock'))).toThrow(/^yumda\.lock: field 'layers\.0\.packages\.0': version '\*\nPin-Priority/);
    const r = await runYumda(['build'], { cwd: path.join(d, 'p'), env: noEngine });
    expect([r.code, r.stderr.trim().split('\n')]).toEqual([
      1,
      [
        expect.stringMatching(
          /^yumda: error: yumda\.lock: field 'layers\.0\.packages\.0': version '\*\\nPin-Priority: -10\\n\\nPackage: zzz-none\\nPin: version 1' of jq is not a Debian version/,
        ),
      ],
    ]);
  });
});
