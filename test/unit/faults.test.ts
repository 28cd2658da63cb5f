import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { removeStaleTemporaries, type ContentStore } from '../../src/cache/content-store.js';
import { extractTar } from '../../src/stage/extract.js';
import { parseTemporarySibling, removeStaleSiblings, temporarySibling } from '../../src/util/atomic.js';
import { fsError, UserError } from '../../src/util/errors.js';
import { ownerGone, ownerLabels, ownerOfLabels, type Owner } from '../../src/util/owner.js';
import { tempDir } from '../helpers/tmp.js';

const errno = (code: string, extra: Record<string, string> = {}) => Object.assign(new Error(`${code}: something, write`), { code, ...extra });

/** The pid of a process that has ended (reuse within a test's lifetime is not a concern here). */
function deadPid(): number {
  return spawnSync('true').pid!;
}

describe('fsError: file-system errors the user can fix become one line', () => {
  it.each([
    ['ENOSPC', { path: '/out/x.zip', needed: '1.1 MiB' }, {}, 'no space left on device writing /out/x.zip (it needs about 1.1 MiB)'],
    ['EDQUOT', { path: '/home/u/.cache/yumda' }, {}, 'disk quota exceeded writing /home/u/.cache/yumda'],
    ['EROFS', {}, { path: '/ro/x.zip' }, 'read-only file system writing /ro/x.zip'],
    ['EACCES', {}, { path: '/root/x' }, 'permission denied: /root/x'],
    ['ENOSPC', {}, { path: '/a', dest: '/b' }, 'no space left on device writing /b'],
    ['ENOSPC', {}, {}, 'no space left on device'],
  ])('%s %j %j', (code, where, fields, message) => {
    const e = fsError(errno(code, fields), where);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe(message);
    expect((e as UserError).hint).toMatch(/elsewhere/);
  });

  it('leaves other errors (bugs keep their stack) and user errors as they are', () => {
    const bug = new TypeError('x is undefined');
    const enoent = errno('ENOENT', { path: '/x' });
    const user = new UserError('bad input');
    expect(fsError(bug, { path: '/p' })).toBe(bug);
    expect(fsError(enoent, { path: '/p' })).toBe(enoent);
    expect(fsError(user, { path: '/p' })).toBe(user);
  });
});

describe('extractTar', () => {
  // issue 10: a full disk under the content store left the engine's archive response piped into
  // a destroyed extractor, never closed: the build then hung forever at 0% CPU
  it('closes its source when writing the contents fails', async () => {
    const pack = tar.pack();
    for (let i = 0; i < 4; i++) pack.entry({ name: `out/pkgs/a/f${i}` }, Buffer.alloc(1000, i));
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    // like the engine's response, it never ends by itself
    const source = new PassThrough();
    source.write(Buffer.concat(chunks));
    const full = {
      writeStream: async () => {
        throw errno('ENOSPC');
      },
    } as unknown as ContentStore;
    await expect(extractTar(source, full, (n) => ({ tree: 'a', path: n.replace(/^out\/pkgs\/a/, '') }))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(source.destroyed).toBe(true);
  });
});

describe('stale temporaries', () => {
  it('parses the names temporarySibling makes', () => {
    const t = path.basename(temporarySibling('/d/layer.zip'));
    expect(parseTemporarySibling(t)).toEqual({ dest: 'layer.zip', pid: process.pid });
    expect(parseTemporarySibling('.layer.zip.yumda-x-1.tmp')).toBeUndefined();
    expect(parseTemporarySibling('layer.zip')).toBeUndefined();
  });

  it("removeStaleSiblings removes a dead process's temporaries of that output only", async () => {
    const d = tempDir();
    const dead = deadPid();
    const names = {
      dead: `.p.zip.yumda-${dead}-0a1b2c3d.tmp`,
      deadDir: `.p.zip.yumda-${dead}-0a1b2c3e.tmp`,
      live: `.p.zip.yumda-${process.ppid}-0a1b2c3d.tmp`,
      mine: `.p.zip.yumda-${process.pid}-0a1b2c3d.tmp`,
      other: `.q.zip.yumda-${dead}-0a1b2c3d.tmp`,
      output: 'p.zip',
    };
    for (const [k, n] of Object.entries(names)) {
      if (k === 'deadDir') mkdirSync(path.join(d, n, 'bin'), { recursive: true });
      else writeFileSync(path.join(d, n), 'x');
    }
    const removed = await removeStaleSiblings(path.join(d, 'p.zip'));
    expect(removed.map((p) => path.basename(p)).sort()).toEqual([names.dead, names.deadDir].sort());
    expect(readdirSync(d).sort()).toEqual([names.live, names.mine, names.other, names.output].sort());
  });

  it("removeStaleTemporaries sweeps the content store of dead and own writers' files, not live ones'", async () => {
    const d = tempDir();
    const hash = 'ab'.repeat(32);
    mkdirSync(path.join(d, 'ab'));
    const dead = deadPid();
    const files = [
      [`.${hash}.yumda-${dead}-00ff00ff.tmp`, false],
      [`${hash}.${dead}.00ff00ff.tmp`, false],
      [`.${hash}.yumda-${process.pid}-00ff00ff.tmp`, false],
      [`.${hash}.yumda-${process.ppid}-00ff00ff.tmp`, true],
      [hash, true],
    ] as const;
    for (const [n] of files) writeFileSync(path.join(d, 'ab', n), 'x');
    expect(await removeStaleTemporaries(d)).toBe(3);
    for (const [n, kept] of files) expect([n, existsSync(path.join(d, 'ab', n))]).toEqual([n, kept]);
  });
});

describe('ownerGone: what another run may remove', () => {
  const here: Owner = { pid: 100, host: 'h/boot1', start: '555' };
  it.each([
    ['a dead process on this machine', { pid: 7, host: 'h/boot1', start: '40' }, undefined, true],
    ['a reused pid (another start time)', { pid: 7, host: 'h/boot1', start: '40' }, '41', true],
    ['a live process', { pid: 7, host: 'h/boot1', start: '40' }, '40', false],
    ['a live process whose start time is unknown', { pid: 7, host: 'h/boot1', start: '' }, '41', false],
    ['another machine', { pid: 7, host: 'other/boot1', start: '40' }, undefined, false],
    ['an earlier boot of this machine', { pid: 7, host: 'h/boot0', start: '40' }, undefined, false],
    ['this very process', { pid: 100, host: 'h/boot1', start: '555' }, undefined, false],
  ])('%s', (_what, owner, startNow, gone) => {
    expect(ownerGone(owner, here, () => startNow)).toBe(gone);
  });

  it('round-trips through labels; labels without an owner give none', () => {
    expect(ownerOfLabels(ownerLabels(here))).toEqual(here);
    expect(ownerOfLabels({ 'org.yumda.owner': 'yumda' })).toBeUndefined();
    expect(ownerOfLabels(undefined)).toBeUndefined();
  });

  it('judges the real current process alive and an ended one gone', () => {
    expect(ownerGone({ ...ownerOfLabels(ownerLabels())!, pid: process.ppid, start: '' })).toBe(false);
    const dead = ownerOfLabels(ownerLabels())!;
    expect(ownerGone({ ...dead, pid: deadPid() })).toBe(true);
  });
});

describe('extractTar, streaming', () => {
  // issue 19: with entries streamed into the store, a write that fails midway ended the entry's
  // body early, and the extractor's "Premature close" took the place of ENOSPC (an internal error)
  it('a write that fails midway through an entry reports that failure, not a premature close', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'out/pkgs/a/big' }, Buffer.alloc(3 * 1024 * 1024, 1));
    pack.entry({ name: 'out/pkgs/a/next' }, 'x');
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    // as from the engine: in pieces, as they arrive
    const source = new PassThrough();
    const all = Buffer.concat(chunks);
    void (async () => {
      for (let at = 0; at < all.length && !source.destroyed; at += 64 * 1024) {
        source.write(all.subarray(at, at + 64 * 1024));
        await new Promise((r) => setImmediate(r));
      }
      source.end();
    })();
    // the disk fills after the first MiB of the entry
    const full = {
      writeStream: async (body: AsyncIterable<unknown>) => {
        let n = 0;
        for await (const c of body) {
          n += (c as Buffer).length;
          if (n > 1024 * 1024) throw errno('ENOSPC');
        }
        return { hash: '', hostPath: '', size: n };
      },
    } as unknown as ContentStore;
    await expect(extractTar(source, full, (n) => ({ tree: 'a', path: n.replace(/^out\/pkgs\/a/, '') }))).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(source.destroyed).toBe(true);
  });
});
