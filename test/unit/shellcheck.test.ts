import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptStageScript, aptShims } from '../../src/backends/apt/stage.js';
import { refreshScript } from '../../src/backends/apt/resolve.js';
import { stageScript } from '../../src/backends/rpm/stage.js';
import { packedFirstCall } from '../../src/check/verify.js';
import { compressScript } from '../../src/pack/compress.js';
import { launcherScript, packedExecWrapperScript } from '../../src/pack/launcher.js';
import type { PackedLayer } from '../../src/pack/packed-layer.js';
import { inventoryScript } from '../../src/registry/refresh.js';
import { execWrapperScript, wrapperScript } from '../../src/relocate/wrappers.js';
import { installScript } from '../../src/stage/scripts.js';
import { alternativesRecorder } from '../../src/stage/shims.js';
import { templatesRendered } from '../../src/util/template.js';
import { repoRoot, run } from '../helpers/cli.js';

/**
 * Every shell script yumda writes or runs goes through shellcheck (Debian's, as CI installs it):
 * each template in src/ as a file, before any value is in it; each as rendered (a packed layer's
 * launcher, the exec wrappers, the staging and install scripts, the shims), with values that
 * exercise both sides of its #if lines; and the project's own shell files. Warnings and errors
 * fail the test; style notes do not.
 */
const packed: PackedLayer = {
  archive: '/opt/.yumda/pack/tree.tar.zst',
  compression: { format: 'zstd', windowLog: 27 },
  packedBytes: 98_765_432,
  unpackDir: '/tmp/yumda-pack-0123456789ab',
  links: ['bin', 'lib', 'share'],
  libraryDirs: ['/tmp/lib'],
  env: { FONTCONFIG_PATH: '/tmp/etc/fonts', GDK_PIXBUF_MODULE_FILE: '/tmp/lib/gdk pixbuf/loaders.cache' },
  unpackedBytes: 700 * 1024 * 1024,
  tools: { tar: '/opt/.yumda/bin/tar', zstd: '/opt/.yumda/bin/zstd', libraryPath: '/opt/.yumda/lib' },
  programs: [
    { name: 'chromium', target: 'bin/chromium', argv0: 'invoked' },
    { name: 'chromedriver', target: 'lib/chromium/chromedriver', argv0: 'real' },
  ],
};
/** The other side of each of the launcher's #if lines: a directory under /tmp to make, no library directories, no environment. */
const bare: PackedLayer = { ...packed, unpackDir: '/tmp/sub/yumda-pack-0123456789ab', libraryDirs: [], env: {}, links: ['bin'], compression: { format: 'zstd', windowLog: 31 } };
// values with odd characters are run for real in exec-wrapper.test.ts: shellcheck takes a quoted ' for a mistake
const env = { FONTCONFIG_PATH: '/opt/etc/fonts', GDK_PIXBUF_MODULE_FILE: '/opt/lib/gdk pixbuf/loaders.cache' };
const rpms = ['/yumda/rpms/a-1.0-1.x86_64.rpm', '/yumda/rpms/b-2.0-1.noarch.rpm'];

const rendered: Array<[string, string, string]> = [
  ['the packed launcher (invoked argv0)', 'bash', launcherScript(packed, packed.programs[0]!)],
  ['the packed launcher (real argv0)', 'bash', launcherScript(packed, packed.programs[1]!)],
  ['the packed launcher (unpacking below /tmp, nothing to set)', 'bash', launcherScript(bare, packed.programs[0]!)],
  ["a packed layer's exec wrapper", 'bash', packedExecWrapperScript(packed)],
  ["a packed layer's exec wrapper (nothing to set)", 'bash', packedExecWrapperScript(bare)],
  ['a program wrapper (bash)', 'bash', wrapperScript('/bin/bash', '/opt/bin/.tool.real', env, ['fontconfig'])],
  ['a program wrapper (sh)', 'sh', wrapperScript('/bin/sh', '/opt/bin/.tool.real', env, ['fontconfig'])],
  ['the exec wrapper', 'sh', execWrapperScript('/bin/sh', env, ['fontconfig'])],
  ['the exec wrapper (bash)', 'bash', execWrapperScript('/bin/bash', env, ['fontconfig'])],
  ['the deb install script', 'sh', installScript('deb', true)],
  ['the deb install script (self-contained)', 'sh', installScript('deb', false)],
  ['the rpm install script', 'sh', installScript('rpm', true)],
  ['the rpm install script (self-contained)', 'sh', installScript('rpm', false)],
  ['the rpm staging script', 'bash', stageScript(rpms, [{ file: rpms[0]!, key: '/yumda/keys/k.asc' }])],
  [
    'the rpm staging script (one package, two keys)',
    'bash',
    stageScript(rpms.slice(0, 1), [
      { file: rpms[0]!, key: '/k/1' },
      { file: rpms[0]!, key: '/k/2' },
    ]),
  ],
  ['the rpm staging script (nothing to unpack)', 'bash', stageScript([], [])],
  ['the apt staging script', 'bash', aptStageScript()],
  ['the apt metadata refresh', 'bash', refreshScript({ maxAgeMinutes: 30, force: false })],
  ['the apt metadata refresh (--refresh)', 'bash', refreshScript({ maxAgeMinutes: 30, force: true })],
  ...[...aptShims(), ...alternativesRecorder(['alternatives'])].map(([p, text]): [string, string, string] => [`the staging shim ${p}`, 'sh', text]),
  ['compressing a packed tree', 'sh', compressScript('/var/tmp/yumda-pack-0123456789abcdef', 19)],
  ["a packed layer's first call, timed (verify)", 'sh', packedFirstCall()],
  ['the deb runtime inventory', 'sh', inventoryScript('deb')],
  ['the rpm runtime inventory', 'sh', inventoryScript('rpm')],
];

/** Every template in src/: a new one is checked, as a file, as soon as it is there. */
const templates = (readdirSync(path.join(repoRoot, 'src'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.sh'))
  .map((f) => path.join('src', f))
  .sort();

const files = [
  '.ci/run',
  '.ci/binfmt-arm64',
  'scripts/action.sh',
  'scripts/build-image.sh',
  'images/yumda/entrypoint.sh',
  'test/images/ensure-base-images.sh',
  'test/images/ensure-all-base-images.sh',
];

async function shellcheck(script: string, shell: string): Promise<string> {
  const r = await run('shellcheck', ['--severity=warning', `--shell=${shell}`, '-'], { input: script });
  if (r.code !== 0 && !r.stdout) throw new Error(`shellcheck did not run: ${r.stderr}`);
  return r.stdout;
}

/** shellcheck on a file, which says its shell itself (a shebang, or a `# shellcheck shell=` line where the shebang is a placeholder). */
async function shellcheckFile(file: string): Promise<string> {
  const r = await run('shellcheck', ['--severity=warning', file], { cwd: repoRoot });
  if (r.code !== 0 && !r.stdout) throw new Error(`shellcheck did not run: ${r.stderr}`);
  return r.stdout;
}

describe('shellcheck', () => {
  it.each(rendered)('%s, as rendered', async (_what, shell, script) => {
    expect(await shellcheck(script, shell)).toBe('');
  });

  it('finds the templates', () => {
    expect(templates).toContain('src/pack/launcher.sh');
    expect(templates.length).toBeGreaterThan(10);
  });

  it.each(templates)('the template %s, as a file', async (file) => {
    expect(await shellcheckFile(file)).toBe('');
  });

  it('every template is among those checked as rendered', () => {
    const checked = new Set(templatesRendered().map((f) => path.relative(repoRoot, f)));
    expect(templates.filter((t) => !checked.has(t))).toEqual([]);
  });

  it.each(files)('%s', async (file) => {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const shell = /^#!.*\bbash\b/.test(text) ? 'bash' : 'sh';
    expect(await shellcheck(text, shell)).toBe('');
  });

  it('finds what it should: a variable never assigned is a warning', async () => {
    expect(await shellcheck('#!/bin/sh\necho "$never_set"\n', 'sh')).toMatch(/SC2154/);
  });

  it('finds what it should: a template that does not say its shell is an error', async () => {
    const r = await run('shellcheck', ['--severity=warning', '-'], { input: 'echo "$1"\n' });
    expect(r.stdout).toMatch(/SC2148/);
  });
});
