import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { launcherScripts } from '../../src/pack/launcher.js';
import { type PackedLayer, tmpBytes, tmpMb } from '../../src/pack/packed-layer.js';
import { loadRuntime } from '../../src/registry/load.js';
import type { TreeEntry } from '../../src/tree/types.js';
import { dir, file, symlink } from '../helpers/tree.js';
import { tempDir } from '../helpers/tmp.js';
import { repoRoot, run, runYumda } from '../helpers/cli.js';
import { ensureRuntimeImage, runLambdaLike } from '../helpers/lambda.js';
import { echoArgsProgram } from '../helpers/pack.js';

/**
 * Issue 14's launcher, for real and Lambda-like: a packed tree (a compiled program, a link to it,
 * 64 MiB of incompressible data and 4,000 small files, so an unpack lasts long enough to be killed
 * midway) compressed with zstd; tar and zstd built by yumda itself from debian12's packages
 * against a runtime without tar (as provided.al2023 has neither), shipped in /opt/.yumda; the
 * launcher at /opt/bin. Runs read-only, uid 993, no network, /tmp a tmpfs of a given size.
 */
describe('packed layer launcher, Lambda-like (debian12)', () => {
  const work = tempDir('yumda-pack-');
  const layerDir = path.join(work, 'layer');
  const UNPACK = '/tmp/yumda-echo';
  let image: string;
  let layer: PackedLayer;

  function treeEntries(): TreeEntry[] {
    const entries: TreeEntry[] = [dir('/bin'), dir('/share'), dir('/share/filler'), dir('/share/small'), symlink('/bin/echo-link', 'echo-args')];
    for (let i = 0; i < 64; i++) entries.push(file(`/share/filler/f${i}`, randomBytes(1024 * 1024)));
    for (let i = 0; i < 4000; i++) entries.push(file(`/share/small/s${i}.txt`, `small file ${i}\n`.repeat(1 + (i % 200))));
    return entries;
  }

  beforeAll(async () => {
    chmodSync(work, 0o755);
    const runtime = loadRuntime('debian12');
    image = await ensureRuntimeImage(runtime.verifyImage!.name, runtime.verifyImage!.context);

    // tar and zstd as yumda ships them, for a runtime that lacks tar
    const rt = JSON.parse(readFileSync(path.join(repoRoot, 'registry/runtimes/debian12.json'), 'utf8'));
    rt.$schema = path.join(repoRoot, 'schema/runtime.schema.json');
    rt.packages = rt.packages.filter((p: { name: string }) => p.name !== 'tar');
    writeFileSync(path.join(work, 'runtime-without-tar.json'), JSON.stringify(rt));
    const tools = path.join(work, 'tools');
    const built = await runYumda(['install', 'zstd', 'tar', '--target', 'debian12', '--runtime-manifest', path.join(work, 'runtime-without-tar.json'), '--out-dir', tools]);
    expect(built.code, built.stderr).toBe(0);

    // the tree, as relocation would leave it for /tmp/yumda-echo
    const tree = path.join(work, 'tree');
    const entries = treeEntries();
    for (const e of entries) {
      const p = path.join(tree, e.path);
      if (e.kind === 'dir') mkdirSync(p, { recursive: true });
      else if (e.kind === 'symlink') symlinkSync(e.target, p);
      else writeFileSync(p, e.content.kind === 'bytes' ? e.content.data : '');
    }
    cpSync(await echoArgsProgram(work), path.join(tree, 'bin/echo-args'));
    const prog = readFileSync(path.join(tree, 'bin/echo-args'));
    entries.push(file('/bin/echo-args', prog, 0o755));

    // the layer: tools and archive in /opt/.yumda, launchers in /opt/bin
    for (const d of ['.yumda/bin', '.yumda/lib', '.yumda/pack', 'bin']) mkdirSync(path.join(layerDir, d), { recursive: true });
    for (const t of ['tar', 'zstd']) cpSync(path.join(tools, 'bin', t), path.join(layerDir, '.yumda/bin', t));
    cpSync(path.join(tools, 'lib'), path.join(layerDir, '.yumda/lib'), { recursive: true, verbatimSymlinks: true });
    const archive = path.join(layerDir, '.yumda/pack/tree.tar.zst');
    const packed = await run('bash', ['-c', `set -o pipefail; tar -C ${tree} -cf - . | LD_LIBRARY_PATH=${tools}/lib nice -n 19 ${tools}/bin/zstd -q -3 -T2 -o ${archive}`]);
    expect(packed.code, packed.stderr).toBe(0);
    layer = {
      archive: '/opt/.yumda/pack/tree.tar.zst',
      compression: { format: 'zstd', windowLog: 27 },
      packedBytes: readFileSync(archive).length,
      unpackDir: UNPACK,
      links: [],
      libraryDirs: [],
      env: {},
      unpackedBytes: tmpBytes(entries),
      tools: { tar: '/opt/.yumda/bin/tar', zstd: '/opt/.yumda/bin/zstd', libraryPath: '/opt/.yumda/lib' },
      programs: [
        { name: 'echo-args', target: 'bin/echo-args', argv0: 'invoked' },
        { name: 'echo-real', target: 'bin/echo-link', argv0: 'real' },
      ],
    };
    for (const [name, script] of launcherScripts(layer)) writeFileSync(path.join(layerDir, 'bin', name), script, { mode: 0o755 });
  });

  /** Enough /tmp for the tree and the test's own files. */
  const roomyMb = () => tmpMb(layer.unpackedBytes) + 16;

  it('runs on a runtime without zstd, with only what the layer ships', async () => {
    const r = await runLambdaLike(image, layerDir, 'command -v zstd || echo no zstd; ldd /opt/.yumda/bin/zstd /opt/.yumda/bin/tar | grep -c "not found"', {
      tmpMb: roomyMb(),
      shell: '/bin/bash',
    });
    expect(r.stdout).toBe('no zstd\n0\n');
  });

  it('first call unpacks, second only execs (both timed); argv, argv[0], stdin, stdout, stderr and status pass through', async () => {
    const script = `
      mkdir /tmp/out
      t0=$(date +%s%N); printf 'line one\\nline two\\n' | echo-args 7 'two words' '' >/tmp/out/1 2>/tmp/out/e1; rc1=$?
      t1=$(date +%s%N); echo-args 0 </dev/null >/tmp/out/2 2>/tmp/out/e2; rc2=$?
      t2=$(date +%s%N); echo-real 3 </dev/null >/tmp/out/3 2>/dev/null; rc3=$?
      echo "rc $rc1 $rc2 $rc3"; echo "ms $(( (t1 - t0) / 1000000 )) $(( (t2 - t1) / 1000000 ))"
      echo "--1"; cat /tmp/out/1; echo "--e1"; cat /tmp/out/e1; echo "--2"; cat /tmp/out/2; echo "--3"; cat /tmp/out/3
      echo "--tmp"; ls -A /tmp`;
    const r = await runLambdaLike(image, layerDir, script, { tmpMb: roomyMb(), shell: '/bin/bash' });
    expect(r.stderr).toBe('');
    const [rc, ms, ...rest] = r.stdout.split('\n');
    expect(rc).toBe('rc 7 0 3');
    const [first, second] = ms!.split(' ').slice(1).map(Number);
    console.log(
      `packed layer: ${tmpMb(layer.unpackedBytes)} MB unpacked, ${(layer.packedBytes / 1048576).toFixed(1)} MiB packed; first call ${first} ms (unpacks), second ${second} ms (this machine, loaded)`,
    );
    expect(second!).toBeLessThan(first!);
    expect(rest.join('\n')).toBe(
      [
        '--1',
        'argv[0]=/opt/bin/echo-args',
        'argv[1]=7',
        'argv[2]=two words',
        'argv[3]=',
        'line one',
        'line two',
        '--e1',
        'stderr of echo-args',
        '--2',
        'argv[0]=/opt/bin/echo-args',
        'argv[1]=0',
        '--3',
        `argv[0]=${UNPACK}/bin/echo-link`,
        'argv[1]=3',
        '--tmp',
        'out',
        'yumda-echo',
        '',
      ].join('\n'),
    );
  });

  it('two concurrent first calls both work, and one tree results', async () => {
    const script = `
      mkdir /tmp/out
      echo-args 11 </dev/null >/tmp/out/a 2>/tmp/out/ea & a=$!
      echo-real 12 </dev/null >/tmp/out/b 2>/tmp/out/eb & b=$!
      wait $a; ra=$?; wait $b; rb=$?
      echo "rc $ra $rb"; cat /tmp/out/a /tmp/out/ea /tmp/out/b /tmp/out/eb; ls -A /tmp`;
    const r = await runLambdaLike(image, layerDir, script, { tmpMb: roomyMb(), shell: '/bin/bash' });
    expect(r.stdout).toBe(
      `rc 11 12\nargv[0]=/opt/bin/echo-args\nargv[1]=11\nstderr of echo-args\nargv[0]=${UNPACK}/bin/echo-link\nargv[1]=12\nstderr of echo-args\nout\nyumda-echo\n`,
    );
  });

  it('an unpack killed midway (kill -9 of its process group) is detected and redone on the next call, leaving nothing behind', async () => {
    const script = `
      setsid echo-args 0 </dev/null >/dev/null 2>&1 & pid=$!
      for i in $(seq 1 1000); do compgen -G '${UNPACK}.part.*/share/small/*' >/dev/null && break; sleep 0.005; done
      { kill -9 -- -$pid; wait $pid; } 2>/dev/null; sleep 0.3
      echo "after kill: $(ls -A /tmp | tr '\\n' ' ')"
      echo-args 5 </dev/null; echo "rc $?"
      echo "after: $(ls -A /tmp | tr '\\n' ' ')"
      ls ${UNPACK}/share/small | wc -l`;
    const r = await runLambdaLike(image, layerDir, script, { tmpMb: roomyMb(), shell: '/bin/bash' });
    const lines = r.stdout.split('\n');
    // killed midway: its half tree and its lock, no finished tree
    expect(lines[0]).toMatch(/^after kill: yumda-echo\.lock yumda-echo\.part\.\d+\.\d+ $/);
    expect(lines.slice(1).join('\n')).toBe('argv[0]=/opt/bin/echo-args\nargv[1]=5\nrc 5\nafter: yumda-echo \n4000\n');
    expect(r.stderr).toBe('stderr of echo-args\n');
  });

  it('a launcher killed alone (kill -9 of its pid, not its group) mid-unpack: its tar and zstd stop with it, and the next call cleans up quietly', async () => {
    // the runtime image has no ps: /proc says which processes still run the unpack tools
    const script = `
      unpackers() { for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' <$p/cmdline 2>/dev/null); case $c in /opt/.yumda/bin/*) echo "$c";; esac; done; }
      echo-args 0 </dev/null >/dev/null 2>&1 & pid=$!
      for i in $(seq 1 1000); do compgen -G '${UNPACK}.part.*/share/small/*' >/dev/null && break; sleep 0.005; done
      kill -9 $pid; wait $pid 2>/dev/null; sleep 0.5
      n1=$(find /tmp -type f | wc -l); sleep 0.5; n2=$(find /tmp -type f | wc -l)
      echo "files still appearing: $((n2 - n1))"
      echo "unpackers: $(unpackers | wc -l)"
      timeout -s KILL 60 echo-args 5 </dev/null; echo "rc $?"
      echo "after: $(ls -A /tmp | tr '\\n' ' ')"`;
    const r = await runLambdaLike(image, layerDir, script, { tmpMb: roomyMb(), shell: '/bin/bash' });
    expect(r.stdout).toBe('files still appearing: 0\nunpackers: 0\nargv[0]=/opt/bin/echo-args\nargv[1]=5\nrc 5\nafter: yumda-echo \n');
    expect(r.stderr).toBe('stderr of echo-args\n');
  });

  it.each([
    ['a symbolic link to /', 'ln -s / /tmp/yumda-echo.lock', 'a symbolic link'],
    ['a plain file', 'echo x >/tmp/yumda-echo.lock', 'not a directory'],
    ['a directory of other files', 'mkdir /tmp/yumda-echo.lock && echo x >/tmp/yumda-echo.lock/data', 'a directory holding other files than a lock does'],
  ])('a lock name taken by %s: one line within seconds, Lambda-like (was: a loop until the function timed out)', async (_what, make, what) => {
    const script = `${make}; s=$(date +%s); timeout -s KILL 60 echo-args 0 </dev/null; echo "rc $? in $(( $(date +%s) - s )) s"`;
    const r = await runLambdaLike(image, layerDir, script, { tmpMb: roomyMb(), shell: '/bin/bash' });
    expect(r.stdout).toMatch(/^rc 1 in [0-2] s\n$/);
    expect(r.stderr).toBe(`yumda: echo-args: ${UNPACK}.lock is in the way: it is ${what}, not a lock this layer's launchers take; remove it\n`);
  });

  it('a /tmp too small: one line naming the ephemeral storage to set, non-zero exit, no half tree', async () => {
    const needMb = tmpMb(layer.unpackedBytes);
    const r = await runLambdaLike(image, layerDir, 'echo-args 0 </dev/null; echo "rc $?"; ls -A /tmp', { tmpMb: Math.floor(needMb / 2), shell: '/bin/bash' });
    expect(r.stdout).toBe('rc 1\n'); // and nothing left in /tmp
    // what is free is what the tmpfs holds, less the lock the launcher took before it looked
    const m = /^yumda: echo-args: \/tmp has (\d+) MB free, unpacking needs (\d+) MB: set the function's ephemeral storage to at least 512 MB\n$/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(Math.floor(needMb / 2) - 1);
    expect(Number(m![1])).toBeLessThanOrEqual(Math.floor(needMb / 2));
    expect(Number(m![2])).toBe(needMb);
  });
});
