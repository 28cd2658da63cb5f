import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launcherScript, launcherScripts, packedExecWrapperScript } from '../../src/pack/launcher.js';
import { checkPackedLayer, type PackedLayer, tmpBytes, tmpMb, UNPACKED_MARKER } from '../../src/pack/packed-layer.js';
import { dir, file, symlink } from '../helpers/tree.js';
import { UserError } from '../../src/util/errors.js';
import { run } from '../helpers/cli.js';
import { expectGolden } from '../helpers/golden.js';
import { echoArgsProgram } from '../helpers/pack.js';

const ARCHIVE = '/opt/.yumda/pack/tree.tar.zst';

function layer(over: Partial<PackedLayer> = {}): PackedLayer {
  return {
    archive: ARCHIVE,
    compression: { format: 'zstd', windowLog: 27 },
    packedBytes: 98_765_432,
    unpackDir: '/tmp/yumda-chromium',
    links: ['bin', 'lib', 'share'],
    libraryDirs: ['/tmp/lib'],
    env: {},
    unpackedBytes: 700 * 1024 * 1024,
    tools: { tar: '/opt/.yumda/bin/tar', zstd: '/opt/.yumda/bin/zstd', libraryPath: '/opt/.yumda/lib' },
    programs: [
      { name: 'chromium', target: 'bin/chromium', argv0: 'invoked' },
      { name: 'chromedriver', target: 'lib/chromium/chromedriver', argv0: 'real' },
    ],
    ...over,
  };
}

describe('tmpBytes: the /tmp space an unpacked tree takes', () => {
  it.each([
    ['an empty tree: the unpack directory', [], 4096],
    ['a 1-byte file takes a block', [file('/a', 'x')], 8192],
    ['a 4096-byte file takes exactly one', [file('/a', 'x'.repeat(4096))], 8192],
    ['4097 bytes take two', [file('/a', 'x'.repeat(4097))], 12288],
    ['a directory takes a block', [dir('/d')], 8192],
    ['a short symlink lives in its inode', [symlink('/l', 'libfoo.so.1.2.3')], 4096],
    ['a long symlink takes a block', [symlink('/l', `${'x'.repeat(60)}`)], 8192],
  ])('%s', (_what, entries, expected) => {
    expect(tmpBytes(entries)).toBe(expected);
  });

  it('rounds MB up, as ephemeral storage is configured', () => {
    expect([tmpMb(1), tmpMb(1024 * 1024), tmpMb(1024 * 1024 + 1)]).toEqual([1, 1, 2]);
  });
});

describe('checkPackedLayer', () => {
  it('accepts a well-formed layer', () => {
    expect(() => checkPackedLayer(layer())).not.toThrow();
  });

  it.each([
    ['an archive outside the layer', { archive: '/var/task/tree.tar.zst' }, /archive "\/var\/task\/tree.tar.zst" is not a path in the layer/],
    ['a relative archive', { archive: 'opt/tree.tar.zst' }, /is not a path in the layer/],
    ['an unpack directory outside /tmp', { unpackDir: '/opt/tree' }, /unpack directory "\/opt\/tree" is not under \/tmp/],
    ['/tmp itself', { unpackDir: '/tmp' }, /is not under \/tmp/],
    ['an unpack directory with ..', { unpackDir: '/tmp/../etc' }, /is not under \/tmp/],
    ['a trailing slash', { unpackDir: '/tmp/tree/' }, /is not under \/tmp/],
    ['a path the shell would expand', { unpackDir: '/tmp/$HOME' }, /unpack directory "\/tmp\/\$HOME" holds characters a shell would interpret/],
    ['a path with a quote', { archive: '/opt/a"b.tar.zst' }, /archive "\/opt\/a\\"b.tar.zst" holds characters/],
    ['a relative tool', { tools: { tar: 'tar', zstd: '/opt/.yumda/bin/zstd', libraryPath: '/opt/.yumda/lib' } }, /tar "tar" is not an absolute path/],
    ['a zstd window zstd cannot have', { compression: { format: 'zstd' as const, windowLog: 32 } }, /zstd window 32 is out of range/],
    ['no size', { unpackedBytes: 0 }, /unpacked size 0 is not a byte count/],
    ['more than Lambda can give', { unpackedBytes: 10241 * 1024 * 1024 }, /needs 10241 MB of \/tmp, more than the 10240 MB Lambda can give/],
    ['no programs', { programs: [] }, /no programs to launch/],
    ['a program name with a slash', { programs: [{ name: 'bin/x', target: 'bin/x', argv0: 'real' as const }] }, /program name "bin\/x" is not a file name/],
    [
      'a program twice',
      {
        programs: [
          { name: 'x', target: 'bin/x', argv0: 'real' as const },
          { name: 'x', target: 'bin/y', argv0: 'real' as const },
        ],
      },
      /program x is listed twice/,
    ],
    ['a target out of the tree', { programs: [{ name: 'x', target: '../x', argv0: 'real' as const }] }, /target "..\/x" is not a path inside the unpacked tree/],
    ['an absolute target', { programs: [{ name: 'x', target: '/tmp/x', argv0: 'real' as const }] }, /target "\/tmp\/x" is not a path inside/],
  ])('refuses %s', (_what, over, message) => {
    const e = (() => {
      try {
        checkPackedLayer(layer(over));
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(message);
    expect((e as UserError).hint).toBeTruthy();
  });
});

describe('launcherScript', () => {
  it('renders the launcher (golden)', (ctx) => {
    expectGolden(ctx, 'pack-launcher.sh', launcherScript(layer(), layer().programs[0]!));
  });

  it('passes argv[0] as invoked, or leaves the real path, as each program needs; names the --long window past 27', () => {
    const scripts = launcherScripts(layer({ compression: { format: 'zstd', windowLog: 31 } }));
    expect(scripts.get('chromium')).toMatch(/^exec -a "\$0" "\$_y_dir"\/bin\/chromium "\$@"$/m);
    expect(scripts.get('chromedriver')).toMatch(/^exec "\$_y_dir"\/lib\/chromium\/chromedriver "\$@"$/m);
    expect(scripts.get('chromium')).toContain('zstd -dcq --long=31 -- /opt/.yumda/pack/tree.tar.zst');
    expect(launcherScript(layer(), layer().programs[0]!)).toContain('zstd -dcq -- /opt/.yumda/pack/tree.tar.zst');
  });

  it('refuses a layer checkPackedLayer refuses', () => {
    expect(() => launcherScript(layer({ unpackDir: '/var/tmp/x' }), layer().programs[0]!)).toThrow(UserError);
  });
});

/**
 * The launcher run for real by this machine's bash, coreutils and tar, on a plain tar: a two-line
 * stand-in for zstd (`cat` of its last argument) takes the real one's place, which the e2e test
 * (test/e2e/pack-launcher.test.ts) ships and runs Lambda-like. The archive path, /opt/... in the
 * layer, is pointed at the test's file.
 */
describe('the launcher, run by bash', () => {
  const cleanups: (() => void)[] = [];
  // Last in, first out: processes that write into a test's directory die before it is removed.
  afterEach(() => {
    for (const c of cleanups.splice(0).reverse()) c();
  });

  async function setUp(opts: { packedPrograms?: string[]; env?: Record<string, string>; filler?: number; slowZstd?: boolean } = {}) {
    const base = mkdtempSync('/tmp/yumda-launcher-test-');
    // retried: a killed writer's last mkdir (a child of its shell) can land while the tree is removed
    cleanups.push(() => rmSync(base, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }));
    const prog = await echoArgsProgram(base);
    const tree = path.join(base, 'tree');
    mkdirSync(path.join(tree, 'bin'), { recursive: true });
    copyFileSync(prog, path.join(tree, 'bin', 'echo-args'));
    chmodSync(path.join(tree, 'bin', 'echo-args'), 0o755);
    if (opts.filler) {
      mkdirSync(path.join(tree, 'share'));
      for (let i = 0; i < opts.filler; i++) writeFileSync(path.join(tree, 'share', `f${i}`), 'x'.repeat(4000));
    }
    const archive = path.join(base, 'tree.tar');
    const t = await run('tar', ['-C', tree, '-cf', archive, '.']);
    expect(t.code).toBe(0);
    const tools = path.join(base, 'tools');
    mkdirSync(tools);
    // the slow one hands tar the archive 8 KiB at a time, so an unpack lasts long enough to be killed midway
    // (while tools/slow exists)
    const slow = `[ -e ${tools}/slow ] || exec cat -- "$f"\nn=$(stat -c %s -- "$f")\nfor ((i = 0; i * 8192 < n; i++)); do dd if="$f" bs=8192 skip=$i count=1 status=none; sleep 0.01; done\n`;
    if (opts.slowZstd) writeFileSync(path.join(tools, 'slow'), '');
    writeFileSync(path.join(tools, 'zstd'), `#!/bin/bash\nfor a; do f=$a; done\n${opts.slowZstd ? slow : 'exec cat -- "$f"\n'}`, { mode: 0o755 });
    const unpackDir = path.join(base, 'unpacked');
    const l = layer({
      unpackDir,
      links: ['bin'],
      libraryDirs: [],
      env: opts.env ?? {},
      unpackedBytes: 64 * 1024,
      tools: { tar: '/usr/bin/tar', zstd: path.join(tools, 'zstd'), libraryPath: path.join(base, 'no-libs') },
      programs: (opts.packedPrograms ?? ['echo-args']).map((name) => ({ name, target: 'bin/echo-args', argv0: 'invoked' as const })),
    });
    const bin = path.join(base, 'launchers');
    mkdirSync(bin);
    for (const [name, script] of launcherScripts(l)) writeFileSync(path.join(bin, name), script.replaceAll(ARCHIVE, archive), { mode: 0o755 });
    const launcher = path.join(bin, 'echo-args');
    const execWrapper = path.join(bin, 'exec-wrapper');
    writeFileSync(execWrapper, packedExecWrapperScript(l).replaceAll(ARCHIVE, archive), { mode: 0o755 });
    /** What is beside the tree (locks, partial trees), and whether the tree has its marker. */
    const leftovers = () => readdirSync(base).filter((n) => n.startsWith('unpacked'));
    return { base, archive, unpackDir, launcher, execWrapper, tree, leftovers, tools };
  }

  function startSleeper(): { proc: ChildProcess; pid: number; start: string } {
    const proc = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => proc.kill('SIGKILL'));
    const stat = readFileSync(`/proc/${proc.pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')[19]!;
    return { proc, pid: proc.pid!, start };
  }

  it('unpacks on the first call and then only execs; argv, argv[0], stdin, stdout, stderr and status pass through', async () => {
    const s = await setUp();
    const first = await run(s.launcher, ['7', 'two words', ''], { input: 'line one\nline two\n' });
    expect(first.stdout).toBe(`argv[0]=${s.launcher}\nargv[1]=7\nargv[2]=two words\nargv[3]=\nline one\nline two\n`);
    expect(first.stderr).toBe('stderr of echo-args\n');
    expect(first.code).toBe(7);
    expect(existsSync(path.join(s.unpackDir, UNPACKED_MARKER))).toBe(true);
    expect(s.leftovers()).toEqual(['unpacked']);
    rmSync(s.archive); // the second call must not need it
    const second = await run(s.launcher, ['0'], { input: '' });
    expect(second).toMatchObject({ code: 0, stdout: `argv[0]=${s.launcher}\nargv[1]=0\n` });
  });

  it('breaks the lock of an unpack that died and removes its half tree and candidates', async () => {
    const s = await setUp();
    mkdirSync(`${s.unpackDir}.lock`);
    writeFileSync(`${s.unpackDir}.lock/owner`, '99999999 12345\n'); // above any pid_max: gone
    mkdirSync(`${s.unpackDir}.part.99999999.12345/bin`, { recursive: true });
    writeFileSync(`${s.unpackDir}.part.99999999.12345/bin/half`, 'x');
    mkdirSync(`${s.unpackDir}.lock.99999998.1`);
    const r = await run(s.launcher, ['3']);
    expect(r.code).toBe(3);
    expect(s.leftovers()).toEqual(['unpacked']);
    expect(existsSync(path.join(s.unpackDir, 'bin', 'half'))).toBe(false);
  });

  it('counts a lock whose pid was reused by another process as dead (same pid, other start time)', async () => {
    const s = await setUp();
    const sleeper = startSleeper();
    mkdirSync(`${s.unpackDir}.lock`);
    writeFileSync(`${s.unpackDir}.lock/owner`, `${sleeper.pid} ${Number(sleeper.start) + 1}\n`);
    const r = await run('timeout', ['10', s.launcher, '0']);
    expect(r.code).toBe(0);
    expect(s.leftovers()).toEqual(['unpacked']);
  });

  it('waits while the lock owner lives, then runs what that owner unpacked', async () => {
    const s = await setUp();
    const sleeper = startSleeper();
    mkdirSync(`${s.unpackDir}.lock`);
    writeFileSync(`${s.unpackDir}.lock/owner`, `${sleeper.pid} ${sleeper.start}\n`);
    rmSync(s.archive); // the waiter must not unpack by itself
    let done = false;
    const waiter = run(s.launcher, ['5']).then((r) => {
      done = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 700));
    expect(done).toBe(false);
    // the owner finishes: its tree appears with the marker, then it drops the lock
    mkdirSync(path.join(s.unpackDir, 'bin'), { recursive: true });
    copyFileSync(path.join(s.tree, 'bin', 'echo-args'), path.join(s.unpackDir, 'bin', 'echo-args'));
    writeFileSync(path.join(s.unpackDir, UNPACKED_MARKER), '');
    rmSync(`${s.unpackDir}.lock`, { recursive: true });
    const r = await waiter;
    expect(r).toMatchObject({ code: 5, stderr: 'stderr of echo-args\n' });
    expect(r).toMatchObject({ code: 5, stdout: `argv[0]=${s.launcher}\nargv[1]=5\n` });
  });

  it('does not unpack over a tree its previous lock owner finished just before the lock changed hands', async () => {
    const s = await setUp();
    rmSync(s.archive); // unpacking again would fail
    // mv, as the launcher calls it to take the lock, first plays the previous owner finishing
    const fake = path.join(s.base, 'fakebin');
    mkdirSync(fake);
    const d = s.unpackDir;
    writeFileSync(
      path.join(fake, 'mv'),
      `#!/bin/sh\ncase "$3" in *.lock) [ -e ${d}/${UNPACKED_MARKER} ] || { mkdir -p ${d}/bin && cp ${s.tree}/bin/echo-args ${d}/bin/ && : >${d}/${UNPACKED_MARKER}; };; esac\nexec /bin/mv "$@"\n`,
      { mode: 0o755 },
    );
    const r = await run(s.launcher, ['4'], { env: { ...process.env, PATH: `${fake}:${process.env.PATH}` } });
    expect(r).toMatchObject({ code: 4, stdout: `argv[0]=${s.launcher}\nargv[1]=4\n`, stderr: 'stderr of echo-args\n' });
    expect(s.leftovers()).toEqual(['unpacked']);
  });

  it('removes a tree without its marker and unpacks again', async () => {
    const s = await setUp();
    mkdirSync(path.join(s.unpackDir, 'bin'), { recursive: true });
    writeFileSync(path.join(s.unpackDir, 'bin', 'echo-args'), '#!/bin/sh\necho stale tree\n', { mode: 0o755 });
    const r = await run(s.launcher, ['0']);
    expect(r.stdout).toBe(`argv[0]=${s.launcher}\nargv[1]=0\n`);
  });

  it('four concurrent first calls all run, and one tree results', async () => {
    const s = await setUp();
    const rs = await Promise.all([1, 2, 3, 4].map((i) => run(s.launcher, [String(i)])));
    expect(rs.map((r) => [r.code, r.stdout])).toEqual([1, 2, 3, 4].map((i) => [i, `argv[0]=${s.launcher}\nargv[1]=${i}\n`]));
    expect(s.leftovers()).toEqual(['unpacked']);
  });

  it('links each top-level name beside the tree, and puts back a link that went missing (killed between rename and link)', async () => {
    const s = await setUp();
    expect((await run(s.launcher, ['0'])).code).toBe(0);
    expect(readlinkSync(path.join(s.base, 'bin'))).toBe('unpacked/bin');
    // the tree is reached through the path it was relocated for
    expect((await run(path.join(s.base, 'bin', 'echo-args'), ['3'])).code).toBe(3);
    rmSync(path.join(s.base, 'bin'));
    rmSync(s.archive); // the tree is complete: only the link is made again
    const r = await run(s.launcher, ['0']);
    expect(r).toMatchObject({ code: 0, stderr: 'stderr of echo-args\n' });
    expect(readlinkSync(path.join(s.base, 'bin'))).toBe('unpacked/bin');
    expect(readdirSync(s.base).filter((n) => n.includes('.yumda.') || n.includes('.lock'))).toEqual([]);
  });

  it.each([
    [
      'a directory of the function',
      (at: string) => mkdirSync(at),
      /^yumda: echo-args: (\S+)\/bin exists and is not this layer's: the packed layer needs \1\/bin \(its tree was relocated for \1\); remove it\n$/,
    ],
    [
      'a link of its own',
      (at: string) => symlinkSync('/etc', at),
      /^yumda: echo-args: (\S+)\/bin is a link to \/etc, not this layer's: the packed layer needs \1\/bin .*; remove it\n$/,
    ],
    [
      "another packed layer's tree",
      (at: string) => symlinkSync('yumda-pack-0123456789ab/bin', at),
      /^yumda: echo-args: (\S+)\/bin belongs to another packed layer \(\1\/yumda-pack-0123456789ab\): a function can use one packed yumda layer; pack all its packages into one layer\n$/,
    ],
  ])('a top-level name taken by %s: one line, exit 1, what is there untouched', async (_what, make, line) => {
    const s = await setUp();
    const at = path.join(s.base, 'bin');
    make(at);
    const r = await run(s.launcher, ['0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(line);
    expect(existsSync(at) || readlinkSync(at) !== '').toBe(true);
    expect(readdirSync(s.base).filter((n) => n.includes('.yumda.') || n.endsWith('.lock'))).toEqual([]);
  });

  it('the exec wrapper unpacks, sets the environment unless already set, and runs its arguments', async () => {
    const s = await setUp({ env: { FONTCONFIG_PATH: '/tmp/etc/fonts', GCONV_PATH: '/tmp/lib/gconv' } });
    const r = await run(s.execWrapper, ['/bin/sh', '-c', 'echo "$FONTCONFIG_PATH $GCONV_PATH $0"; exec "$1" 5', 'runtime', path.join(s.base, 'bin', 'echo-args')], {
      env: { ...process.env, GCONV_PATH: 'mine' },
    });
    expect(r.stdout).toBe(`/tmp/etc/fonts mine runtime\nargv[0]=${path.join(s.base, 'bin', 'echo-args')}\nargv[1]=5\n`);
    expect(r.code).toBe(5);
    expect(existsSync(path.join(s.unpackDir, UNPACKED_MARKER))).toBe(true);
  });

  it('a broken archive: one line, exit 1, nothing left behind', async () => {
    const s = await setUp();
    writeFileSync(s.archive, readFileSync(s.archive).subarray(0, 4096));
    const r = await run(s.launcher, ['0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`yumda: echo-args: unpacking ${s.archive} into ${s.unpackDir} failed: /usr/bin/tar: Unexpected EOF in archive\n`);
    expect(s.leftovers()).toEqual([]);
  });

  /** stat -f as the launcher reads it: available blocks, total blocks, block size. */
  it.each([
    ['the tree alone is too big for the default', { avail: 100, total: 512 }, 700, 1112],
    ['what /tmp already holds counts', { avail: 10, total: 512 }, 100, 602],
    ['never less than Lambda lets you set', { avail: 1, total: 8 }, 2, 512],
  ])('short of space (%s): one line naming the ephemeral storage to set, exit 1, nothing left', async (_what, fs, needMb, wantMb) => {
    const s = await setUp();
    const script = readFileSync(s.launcher, 'utf8').replace(/need=\d+/, `need=${needMb * 1024 * 1024}`);
    writeFileSync(s.launcher, script);
    const fake = path.join(s.base, 'fakebin');
    mkdirSync(fake);
    const blocks = (mb: number) => mb * 256; // 4 KiB blocks
    writeFileSync(path.join(fake, 'stat'), `#!/bin/sh\necho ${blocks(fs.avail)} ${blocks(fs.total)} 4096\n`, { mode: 0o755 });
    const r = await run(s.launcher, ['0'], { env: { ...process.env, PATH: `${fake}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`yumda: echo-args: ${s.base} has ${fs.avail} MB free, unpacking needs ${needMb} MB: set the function's ephemeral storage to at least ${wantMb} MB\n`);
    expect(s.leftovers()).toEqual([]);
  });

  it("a /tmp so full the lock cannot be made: the same one line, not mkdir's complaint", async () => {
    const s = await setUp();
    const fake = path.join(s.base, 'fakebin');
    mkdirSync(fake);
    writeFileSync(path.join(fake, 'mkdir'), `#!/bin/sh\necho "mkdir: cannot create directory: No space left on device" >&2\nexit 1\n`, { mode: 0o755 });
    writeFileSync(path.join(fake, 'stat'), `#!/bin/sh\necho 0 ${512 * 256} 4096\n`, { mode: 0o755 });
    const r = await run(s.launcher, ['0'], { env: { ...process.env, PATH: `${fake}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`yumda: echo-args: ${s.base} has 0 MB free, unpacking needs 1 MB: set the function's ephemeral storage to at least 513 MB\n`);
    expect(s.leftovers()).toEqual([]);
  });

  it('more than Lambda can give: says to free /tmp instead', async () => {
    const s = await setUp();
    const fake = path.join(s.base, 'fakebin');
    mkdirSync(fake);
    writeFileSync(path.join(fake, 'stat'), `#!/bin/sh\necho 0 ${10240 * 256} 4096\n`, { mode: 0o755 });
    const r = await run(s.launcher, ['0'], { env: { ...process.env, PATH: `${fake}:${process.env.PATH}` } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `yumda: echo-args: ${s.base} has 0 MB free, unpacking needs 1 MB, and with what ${s.base} already holds that is 10241 MB, more than Lambda's 10240 MB of ephemeral storage: free space in ${s.base} first\n`,
    );
    expect(s.leftovers()).toEqual([]);
  });

  /** Processes still running a test's unpack tools (its zstd stand-in, its tar into a partial tree). */
  async function unpackers(s: { tools: string; unpackDir: string }): Promise<string[]> {
    const r = await run('ps', ['-eo', 'pid,args']);
    return r.stdout.split('\n').filter((l) => l.includes(`${s.tools}/zstd`) || l.includes(`${s.unpackDir}.part.`));
  }

  const until = async (what: () => boolean | Promise<boolean>, ms: number) => {
    for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) if (await what()) return true;
    return false;
  };

  /** What may stand at the lock's name: what the launcher does about it, and how fast. */
  it.each<[string, (lock: string) => void, 'broken' | RegExp]>([
    [
      'a plain file',
      (l) => writeFileSync(l, 'not a lock\n'),
      /^yumda: echo-args: (\S+)\.lock is in the way: it is not a directory, not a lock this layer's launchers take; remove it\n$/,
    ],
    [
      'a symbolic link to /',
      (l) => symlinkSync('/', l),
      /^yumda: echo-args: (\S+)\.lock is in the way: it is a symbolic link, not a lock this layer's launchers take; remove it\n$/,
    ],
    [
      'a directory holding other files, without an owner',
      (l) => {
        mkdirSync(l);
        writeFileSync(path.join(l, 'data'), 'someone else');
      },
      /^yumda: echo-args: (\S+)\.lock is in the way: it is a directory holding other files than a lock does, not a lock this layer's launchers take; remove it\n$/,
    ],
    ['an empty directory (an owner killed while removing its lock)', (l) => mkdirSync(l), 'broken'],
    [
      'a lock holding only its error file',
      (l) => {
        mkdirSync(l);
        writeFileSync(path.join(l, 'err'), 'tar: something\n');
      },
      'broken',
    ],
    [
      'a lock whose owner is malformed',
      (l) => {
        mkdirSync(l);
        writeFileSync(path.join(l, 'owner'), 'garbage\n');
      },
      'broken',
    ],
    [
      'a lock whose owner is a FIFO (reading it would block)',
      (l) => {
        mkdirSync(l);
        execFileSync('mkfifo', [path.join(l, 'owner')]);
      },
      'broken',
    ],
    [
      'a lock whose owner is a link to /dev/zero (reading it would never end)',
      (l) => {
        mkdirSync(l);
        symlinkSync('/dev/zero', path.join(l, 'owner'));
      },
      'broken',
    ],
  ])('a lock name taken by %s: settled within seconds (was: a loop until the function timed out)', async (_what, make, expected) => {
    const s = await setUp();
    const lock = `${s.unpackDir}.lock`;
    make(lock);
    const started = Date.now();
    const r = await run('timeout', ['-s', 'KILL', '10', s.launcher, '4']);
    const took = Date.now() - started;
    expect(took).toBeLessThan(5000);
    if (expected === 'broken') {
      expect(r).toMatchObject({ code: 4, stdout: `argv[0]=${s.launcher}\nargv[1]=4\n`, stderr: 'stderr of echo-args\n' });
      expect(s.leftovers()).toEqual(['unpacked']);
      return;
    }
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(expected);
    // what is not a lock is left as it was: never followed, never removed
    expect(lstatSync(lock).isSymbolicLink() || lstatSync(lock).isFile() || readdirSync(lock).includes('data')).toBe(true);
    expect(existsSync('/bin/sh')).toBe(true);
  });

  it('gives up waiting for a live owner that never finishes, in one line', async () => {
    const s = await setUp();
    const sleeper = startSleeper();
    mkdirSync(`${s.unpackDir}.lock`);
    writeFileSync(`${s.unpackDir}.lock/owner`, `${sleeper.pid} ${sleeper.start}\n`);
    // a small tree gets the least bound, a minute; made 2 s here, the script otherwise as rendered
    const script = readFileSync(s.launcher, 'utf8');
    expect(script).toMatch(/deadline=\$\(\(SECONDS \+ 60\)\)/);
    writeFileSync(s.launcher, script.replace(/SECONDS \+ 60/, 'SECONDS + 2').replace(/gave up after 60 s/, 'gave up after 2 s'));
    const started = Date.now();
    const r = await run('timeout', ['-s', 'KILL', '10', s.launcher, '0']);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`yumda: echo-args: gave up after 2 s waiting for process ${sleeper.pid} to unpack ${s.archive} into ${s.unpackDir} (its lock is ${s.unpackDir}.lock)\n`);
    expect(readFileSync(`${s.unpackDir}.lock/owner`, 'utf8')).toBe(`${sleeper.pid} ${sleeper.start}\n`);
  }, 20_000);

  it('a launcher killed outright (SIGKILL) mid-unpack: its unpack stops, and the next call cleans up quietly', async () => {
    const s = await setUp({ filler: 600, slowZstd: true });
    const launcher = spawn(s.launcher, ['0'], { stdio: 'ignore' });
    cleanups.push(() => launcher.kill('SIGKILL'));
    const part = () => readdirSync(s.base).find((n) => n.startsWith('unpacked.part.'));
    const filling = async () => {
      const p = part();
      return p !== undefined && existsSync(path.join(s.base, p, 'share')) && readdirSync(path.join(s.base, p, 'share')).length > 20;
    };
    expect(await until(filling, 10_000)).toBe(true);
    launcher.kill('SIGKILL');
    // the unpack's processes end with it (was: tar went on writing into /tmp)
    expect(await until(async () => (await unpackers(s)).length === 0, 2000), (await unpackers(s)).join('\n')).toBe(true);
    const p = part()!;
    const count = () => readdirSync(path.join(s.base, p, 'share')).length;
    const before = count();
    await new Promise((r) => setTimeout(r, 300));
    expect(count()).toBe(before);
    rmSync(path.join(s.tools, 'slow'));
    const r = await run('timeout', ['-s', 'KILL', '30', s.launcher, '6']);
    expect(r).toMatchObject({ code: 6, stdout: `argv[0]=${s.launcher}\nargv[1]=6\n`, stderr: 'stderr of echo-args\n' });
    expect(s.leftovers()).toEqual(['unpacked']);
  }, 60_000);

  it('a launcher told to stop (SIGTERM) mid-unpack: its unpack stops with it and nothing is left', async () => {
    const s = await setUp({ filler: 600, slowZstd: true });
    const launcher = spawn(s.launcher, ['0'], { stdio: 'ignore' });
    cleanups.push(() => launcher.kill('SIGKILL'));
    const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
    expect(await until(() => readdirSync(s.base).some((n) => n.startsWith('unpacked.part.')), 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    launcher.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(await until(async () => (await unpackers(s)).length === 0, 2000), (await unpackers(s)).join('\n')).toBe(true);
    expect(s.leftovers()).toEqual([]);
  }, 60_000);

  it('a partial tree something still writes into (an orphan of an older launcher): the next call removes what it can, quietly', async () => {
    const s = await setUp();
    mkdirSync(`${s.unpackDir}.lock`);
    writeFileSync(`${s.unpackDir}.lock/owner`, '99999999 12345\n');
    const orphanDir = `${s.unpackDir}.part.99999999.12345`;
    mkdirSync(orphanDir);
    // its own process group: the kill reaches the shell and the mkdir it may be running
    const orphan = spawn('bash', ['-c', `i=0; while :; do mkdir -p ${orphanDir}/d$i && : >${orphanDir}/d$i/f; i=$((i+1)); done`], { stdio: 'ignore', detached: true });
    const killOrphan = () => {
      try {
        process.kill(-orphan.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    cleanups.push(killOrphan);
    await new Promise((r) => setTimeout(r, 200));
    const r = await run('timeout', ['-s', 'KILL', '20', s.launcher, '2']);
    // The orphan may be mid-mkdir when the signal lands; removing the directory races it unless it has exited.
    const exited = new Promise((resolve) => orphan.once('exit', resolve));
    killOrphan();
    await exited;
    expect(r).toMatchObject({ code: 2, stdout: `argv[0]=${s.launcher}\nargv[1]=2\n`, stderr: 'stderr of echo-args\n' });
  }, 30_000);
});
