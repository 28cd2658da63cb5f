import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { launcherScript, packedExecWrapperScript } from '../../src/pack/launcher.js';
import type { PackedLayer } from '../../src/pack/packed-layer.js';
import { inventoryScript } from '../../src/registry/refresh.js';
import { aptStageScript } from '../../src/backends/apt/resolve.js';
import { stageScript } from '../../src/backends/rpm/resolve.js';
import { execWrapperScript, wrapperScript } from '../../src/relocate/wrappers.js';
import { debInstallScript, rpmInstallScript } from '../../src/stage/scripts.js';
import { repoRoot, run } from '../helpers/cli.js';

/**
 * Every shell script yumda writes or runs goes through shellcheck (Debian's, as CI installs it):
 * the ones it renders (a packed layer's launcher, the exec wrappers, the staging and install
 * scripts), as rendered, and the project's own shell files. Warnings and errors fail the test;
 * style notes do not.
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
// values with odd characters are run for real in exec-wrapper.test.ts: shellcheck takes a quoted ' for a mistake
const env = { FONTCONFIG_PATH: '/opt/etc/fonts', GDK_PIXBUF_MODULE_FILE: '/opt/lib/gdk pixbuf/loaders.cache' };

const rendered: Array<[string, string, string]> = [
  ['the packed launcher (invoked argv0)', 'bash', launcherScript(packed, packed.programs[0]!)],
  ['the packed launcher (real argv0)', 'bash', launcherScript(packed, packed.programs[1]!)],
  ["a packed layer's exec wrapper", 'bash', packedExecWrapperScript(packed)],
  ['a program wrapper (bash)', 'bash', wrapperScript('/bin/bash', '/opt/bin/.tool.real', env, ['fontconfig'])],
  ['a program wrapper (sh)', 'sh', wrapperScript('/bin/sh', '/opt/bin/.tool.real', env, ['fontconfig'])],
  ['the exec wrapper', 'sh', execWrapperScript('/bin/sh', env, ['fontconfig'])],
  ['the deb install script', 'bash', debInstallScript(true)],
  ['the deb install script (self-contained)', 'bash', debInstallScript(false)],
  ['the rpm install script', 'bash', rpmInstallScript(true)],
  [
    'the rpm staging script',
    'bash',
    stageScript(['/yumda/rpms/a-1.0-1.x86_64.rpm', '/yumda/rpms/b-2.0-1.noarch.rpm'], [{ file: '/yumda/rpms/a-1.0-1.x86_64.rpm', key: '/yumda/keys/k.asc' }]),
  ],
  ['the apt staging script', 'bash', aptStageScript()],
  ['the deb runtime inventory', 'sh', inventoryScript('deb')],
  ['the rpm runtime inventory', 'sh', inventoryScript('rpm')],
];

const files = ['.ci/run', '.ci/binfmt-arm64', 'scripts/action.sh', 'scripts/build-image.sh', 'images/yumda/entrypoint.sh', 'test/images/ensure-base-images.sh'];

async function shellcheck(script: string, shell: string): Promise<string> {
  const r = await run('shellcheck', ['--severity=warning', `--shell=${shell}`, '-'], { input: script });
  if (r.code !== 0 && !r.stdout) throw new Error(`shellcheck did not run: ${r.stderr}`);
  return r.stdout;
}

describe('shellcheck', () => {
  it.each(rendered)('%s, as rendered', async (_what, shell, script) => {
    expect(await shellcheck(script, shell)).toBe('');
  });

  it.each(files)('%s', async (file) => {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const shell = /^#!.*\bbash\b/.test(text) ? 'bash' : 'sh';
    expect(await shellcheck(text, shell)).toBe('');
  });

  it('finds what it should: a variable never assigned is a warning', async () => {
    expect(await shellcheck('#!/bin/sh\necho "$never_set"\n', 'sh')).toMatch(/SC2154/);
  });
});
