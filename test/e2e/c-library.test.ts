import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import type { Runtime } from '../../src/registry/types.js';
import { cc } from '../helpers/cc.js';
import { run, runYumda } from '../helpers/cli.js';
import { debRepository } from '../helpers/deb-repo.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { serveDirectory } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 21 §3: a layer whose programs need a newer C library than the target's runtime has is
 * refused before anything is written, in one line naming the version and the way out. Before, it
 * was written, and failed on Lambda with `version 'GLIBC_2.38' not found`.
 *
 * Two ways there: Debian 13 packages for --target debian12 (apt's dependencies say libc6 >= 2.38:
 * refused when resolving), and a package whose dependencies do not say what its binary was built
 * against (refused by the closure check's symbol versions), run against the Debian 11 stand-in
 * (debian:11-slim, glibc 2.31: test/images/ensure-base-images.sh --release 11).
 */
describe('the C-library check', () => {
  const work = tempDir('yumda-clib-');
  let repo: { url: string; close: () => Promise<void> };
  const debian11 = path.join(work, 'debian11.json');
  let debian11Image: string;
  let debian12Image: string;

  beforeAll(async () => {
    const have = await run('docker', ['image', 'inspect', 'debian:11-slim']);
    if (have.code !== 0) throw new Error('debian:11-slim is missing: run test/images/ensure-base-images.sh --release 11');
    // the Debian 11 stand-in's runtime manifest, read from the image as any runtime's is
    const r = await runYumda(['runtime', 'refresh', 'debian:11-slim', '--runtime', 'debian12', '--out', debian11, '--date', '2026-12-04']);
    expect(r.code, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(debian11, 'utf8')) as Runtime;
    writeFileSync(debian11, JSON.stringify({ ...manifest, id: 'debian11', description: 'Debian 11 (bullseye) slim, a runtime older than AL2023' }, null, 2));
    // glibc 2.31's libc.so.6: its newest version node is GLIBC_2.30 (2.31 added none)
    expect(
      manifest.symbolVersions
        ?.find((s) => s.soname === 'libc.so.6')
        ?.versions.filter((v) => /\d$/.test(v))
        .at(-1),
    ).toBe('GLIBC_2.30');
    const rt = loadRuntime('debian12');
    debian11Image = await ensureRuntimeImage('yumda/runtime-debian11', rt.verifyImage!.context, 'x86_64', { base: 'debian:11-slim' });
    debian12Image = await ensureRuntimeImage(rt.verifyImage!.name, rt.verifyImage!.context);

    // arc4random came with glibc 2.36: built here, the program needs GLIBC_2.36; its package says nothing of libc6
    const src = '#include <stdlib.h>\n#include <stdio.h>\nint main(void) { printf("random %u\\n", arc4random() % 1000); return 0; }\n';
    const arc4 = await cc(src, 'arc4', [], work);
    await debRepository(path.join(work, 'repo'), [{ name: 'arc4tool', version: '1.0-1', files: [{ path: '/usr/bin/arc4', data: arc4.data, mode: 0o755 }] }]);
    repo = await serveDirectory(path.join(work, 'repo'));
  });
  afterAll(async () => {
    await repo?.close();
  });

  it('refuses Debian 13 packages for --target debian12 in one line naming the GLIBC version and the way out, writing nothing', async () => {
    const out = path.join(work, 'trixie-on-bookworm.zip');
    const r = await runYumda([
      'install',
      'poppler-utils',
      '--target',
      'debian12',
      '--repo',
      'http://deb.debian.org/debian trixie main',
      '--no-default-repos',
      '--out',
      out,
      '--quiet',
    ]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^yumda: error: \S+ \S+ needs libc6 >= 2\.(3[7-9]|4\d) \(GLIBC_2\.(3[7-9]|4\d)\), newer than the debian12 runtime's 2\.36-\S+, and libc6 cannot be shipped in a layer: its files must be the runtime's own; build for a runtime that has it \(--target debian13\), or make the layer self-contained, with its own C library \(--from debian13\)$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a program built against a newer C library than the runtime has, though its package does not say so: the symbol versions tell', async () => {
    const out = path.join(work, 'arc4.zip');
    const r = await runYumda(['install', 'arc4tool', '--target', 'debian12', '--runtime-manifest', debian11, '--repo', `${repo.url} ./`, '--out', out, '--quiet']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      "yumda: error: /opt/bin/arc4 needs GLIBC_2.36 (and GLIBC_2.34) of libc.so.6, which the debian11 runtime's libc.so.6 lacks (its newest is GLIBC_2.30); nothing written; " +
        'build for a runtime that has it (--target debian12 or --target debian13), or make the layer self-contained, with its own C library (--from debian12); or pass --allow-missing to write it anyway',
    ]);
    expect(existsSync(out)).toBe(false);
  });

  it('what it prevents: written anyway, the program fails on Debian 11 with the version named, and runs on Debian 12', async () => {
    const out = path.join(work, 'arc4-anyway.zip');
    const r = await runYumda(['install', 'arc4tool', '--target', 'debian12', '--runtime-manifest', debian11, '--repo', `${repo.url} ./`, '--out', out, '--allow-missing']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("warning: /opt/bin/arc4 needs GLIBC_2.36 (and GLIBC_2.34) of libc.so.6, which the debian11 runtime's libc.so.6 lacks");
    const dir = path.join(work, 'arc4-opt');
    mkdirSync(dir);
    expect((await run('unzip', ['-q', out, '-d', dir])).code).toBe(0);
    chmodSync(work, 0o755);
    chmodSync(dir, 0o755);
    const old = await runLambdaLike(debian11Image, dir, 'arc4');
    expect(old.code).not.toBe(0);
    expect(old.stderr).toMatch(/libc\.so\.6: version `GLIBC_2\.3[46]' not found \(required by \S*arc4\)/);
    const ok = await runLambdaLike(debian12Image, dir, 'arc4');
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/^random \d+\n$/);
  });
});
