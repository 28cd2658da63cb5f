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

/**
 * Issue 20, class 4, measured on real packages (their names stay out of the issue): programs that
 * derive directories from their own location, from a path no package has, from a prefix kept
 * after a key, or that start helpers with plain-word names from their compiled-in bindir.
 */
describe('directories real programs derive, relocated and run Lambda-like', () => {
  const work = tempDir('yumda-derived-');
  const page = path.join(work, 'page');
  const layers = new Map<string, string>();
  let image: string;

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);
    for (const pkg of ['espeak-ng', 'gnupg', 'wkhtmltopdf']) {
      const dir = path.join(work, pkg);
      const r = await runYumda(['install', pkg, '--target', 'debian12', '--out-dir', dir, '--quiet']);
      if (r.code !== 0) throw new Error(`yumda install ${pkg} failed: ${r.stderr.split('\n').slice(-3).join('\n')}`);
      chmodSync(dir, 0o755);
      layers.set(pkg, dir);
    }
    await run('mkdir', ['-p', page]);
    writeFileSync(path.join(page, 'page.html'), '<!doctype html><html><body><h1 style="font:bold 40px sans-serif">Hello Lambda</h1></body></html>\n');
    chmodSync(page, 0o755);
  }, 3_600_000);

  it('espeak-ng finds its data beside the path it names (…/espeak/espeak-ng-data gives …/espeak-ng-data) and writes speech', async () => {
    const r = await runLambdaLike(
      image,
      layers.get('espeak-ng')!,
      'espeak-ng -w /tmp/x.wav "hello lambda"; echo "rc $?"; head -c 12 /tmp/x.wav | tail -c 4; echo; wc -c < /tmp/x.wav',
    );
    expect(r.stderr).toBe('');
    const [rc, wave, bytes] = r.stdout.trim().split('\n');
    expect(rc).toBe('rc 0');
    expect(wave).toBe('WAVE');
    expect(Number(bytes)).toBeGreaterThan(20_000);
  });

  it('gpg starts its agent, and gpg-connect-agent its dirmngr, from the compiled-in bindir', async () => {
    const r = await runLambdaLike(
      image,
      layers.get('gnupg')!,
      'mkdir -m 700 /tmp/g; gpg --homedir /tmp/g --batch --passphrase "" --quick-gen-key lambda@example.com 2>/dev/null; echo "rc $?"; gpg --homedir /tmp/g --list-keys --with-colons | grep -c "^uid"; gpg-connect-agent --homedir /tmp/g --dirmngr "GETINFO version" /bye',
      { env: { HOME: '/tmp' } },
    );
    const lines = r.stdout.trim().split('\n');
    expect(lines[0], r.stderr).toBe('rc 0');
    expect(lines[1]).toBe('1');
    expect(lines[2]).toMatch(/^D 2\.\d+\.\d+$/);
    expect(lines[3]).toBe('OK');
  });

  it('a Qt program finds its platform plugins under the prefix it keeps after a key (qt_prfxpath=/usr)', async () => {
    const r = await runLambdaLike(
      image,
      layers.get('wkhtmltopdf')!,
      'wkhtmltopdf -q /work/page.html /tmp/o.pdf 2>/tmp/err; echo "rc $?"; head -c 5 /tmp/o.pdf; echo; grep -c "Could not find the Qt platform plugin" /tmp/err',
      {
        work: page,
        env: { HOME: '/tmp', QT_QPA_PLATFORM: 'offscreen' },
      },
    );
    expect(r.stdout.trim().split('\n')).toEqual(['rc 0', '%PDF-', '0']);
  });
});
