import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRuntime } from '../../src/registry/load.js';
import { run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 20's acceptance, run Lambda-like on real Debian 12 packages: relocation that never
 * corrupts a binary (binutils' ld, whose "gnu" is the tail of its libdir string).
 */
describe('binutils relocated: ld keeps the strings it shares with its paths', () => {
  const work = tempDir('yumda-binutils-');
  const layer = path.join(work, 'layer');
  const inputs = path.join(work, 'in');
  let image: string;
  let result: { rewrittenDirectories: Array<{ from: string; to: string }> };

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    const r = await runYumda(['install', 'binutils', '--target', 'debian12', '--out-dir', layer, '--json']);
    if (r.code !== 0) throw new Error(`yumda install binutils failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
    result = JSON.parse(r.stdout);
    chmodSync(layer, 0o755);
    // an object file with its own entry point, compiled here: the runtime has no compiler, and
    // ld needs no C library to link it
    await run('mkdir', ['-p', inputs]);
    chmodSync(inputs, 0o777);
    const src = path.join(inputs, 'exit42.c');
    writeFileSync(src, 'void _start(void) { __asm__ volatile("mov $60, %eax\\n mov $42, %edi\\n syscall"); }\n');
    const cc = await run('gcc', ['-c', '-O2', '-fno-pie', '-o', path.join(inputs, 'exit42.o'), src]);
    expect(cc.code, cc.stderr).toBe(0);
    chmodSync(path.join(inputs, 'exit42.o'), 0o644);
  });

  it('its libdir string changes only in its first components, and the layer keeps the multiarch sub-paths', () => {
    const ldDir = result.rewrittenDirectories.find((d) => d.from === '/usr/lib/x86_64-linux-gnu');
    expect(ldDir?.to).toBe('/opt/././x86_64-linux-gnu');
  });

  it('ld --hash-style=gnu -v works', async () => {
    const r = await runLambdaLike(image, layer, 'ld --hash-style=gnu -v');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^GNU ld \(GNU Binutils for Debian\) 2\.\d+/);
    expect(r.code).toBe(0);
  });

  it('ld links an object file the test compiled, with a GNU hash table, and the result runs', async () => {
    const r = await runLambdaLike(
      image,
      layer,
      'set -e; ld --hash-style=gnu -pie --no-dynamic-linker -o /tmp/exit42 /work/exit42.o; readelf -S -W /tmp/exit42 | grep -c "\\.gnu\\.hash"; ld -o /tmp/exit42s /work/exit42.o; set +e; /tmp/exit42s; echo "rc=$?"',
      { work: inputs },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['1', 'rc=42']);
  });
});
