import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkClosure } from '../../src/check/closure.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import { ContentMemo } from '../../src/tree/content-memo.js';
import { readContent, type FileTree, type TreeEntry } from '../../src/tree/types.js';
import { sha256 } from '../../src/util/hash.js';
import { cc } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';
import { file, treeOf } from '../helpers/tree.js';

/**
 * Issue 24: relocation and the steps after it read and parse each distinct content once per run,
 * whatever the number of names it has in the tree (hard links staged as copies, identical files
 * of several packages), and the result is the one every name would have got on its own.
 */
const T = 'x86_64-linux-gnu';
const layout = { triplet: T, keep: DEFAULT_KEEP };

let prog: Buffer;
let lib: Buffer;
beforeAll(async () => {
  const dir = tempDir('yumda-memo-');
  lib = (await cc('int yumda_memo(void) { return 7; }\n', 'libmemo.so.1', ['-shared', '-fPIC', '-Wl,-soname,libmemo.so.1'], dir)).data;
  const source = `#include <stdio.h>
int yumda_memo(void);
const char *data = "/usr/share/yumda-memo/data.txt";
const char *bindir = "/usr/bin";
const char *helper = "yumda-memo-helper";
int main(void) { printf("%s %s %s %d\\n", data, bindir, helper, yumda_memo()); return 0; }
`;
  prog = (await cc(source, 'prog', [`-L${dir}`, '-l:libmemo.so.1', `-Wl,-rpath-link,${dir}`], dir)).data;
});

/** The program under three names and the library under two, each name with its own copy of the bytes when `shared` is false. */
function staged(shared: boolean): FileTree {
  const copy = (b: Buffer) => (shared ? b : Buffer.from(b));
  return treeOf([
    file('/usr/bin/yumda-memo', copy(prog), 0o755, 'memo'),
    file('/usr/bin/yumda-memo-helper', copy(prog), 0o755, 'memo'),
    file(`/usr/lib/${T}/yumda-memo/yumda-memo-again`, copy(prog), 0o755, 'memo'),
    file(`/usr/lib/${T}/libmemo.so.1`, copy(lib), 0o644, 'memo'),
    file(`/usr/lib/${T}/yumda-memo/libmemo-copy.so.1`, copy(lib), 0o644, 'memo'),
    file('/usr/share/yumda-memo/data.txt', 'data\n', 0o644, 'memo'),
  ]);
}

/** Everything of a layer that ships: kinds, modes, link targets and bytes. */
function shipped(layer: FileTree) {
  return [...layer.values()].map((e: TreeEntry) => (e.kind === 'file' ? { ...e, content: sha256(readContent(e.content)) } : e));
}

describe('a run reads each content once', () => {
  it('identical contents are parsed and scanned once, and relocate as they would alone', () => {
    const memo = new ContentMemo();
    const once = relocate({ staged: staged(true), layout, recipes: [], shell: '/bin/sh', memo });
    // three contents (program, library, data file): each probed once, the two ELF ones scanned once
    expect(memo.computed.get('elf')).toBe(3);
    expect(memo.computed.get('directory-strings')).toBe(2);

    const apart = relocate({ staged: staged(false), layout, recipes: [], shell: '/bin/sh' });
    expect(shipped(once.layer)).toEqual(shipped(apart.layer));
    expect(once.report).toEqual(apart.report);
    // the rewrite happened (or the comparison would prove little): the data path moved to /opt
    expect(once.report.binaries.rewrittenPaths.map((r) => r.to)).toContain('/opt/share/yumda-memo/data.txt');
  });

  it('contents are one by their verified SHA-256, across files of the store', () => {
    const dir = tempDir('yumda-memo-store-');
    const digest = sha256(prog);
    const entries = ['a', 'b', 'c'].map((n) => {
      const hostPath = path.join(dir, n);
      writeFileSync(hostPath, prog);
      return { kind: 'file' as const, path: `/opt/bin/${n}`, mode: 0o755, size: prog.length, content: { kind: 'file' as const, hostPath, sha256: digest } };
    });
    const memo = new ContentMemo();
    const report = checkClosure(treeOf(entries), ['libc.so.6', 'libmemo.so.1'], { memo });
    expect(report.checked).toBe(3);
    expect(memo.computed.get('elf')).toBe(1);
  });

  it('the closure check after relocation parses nothing relocation parsed', () => {
    const memo = new ContentMemo();
    const tree = staged(true);
    const { layer } = relocate({ staged: tree, layout, recipes: [], shell: '/bin/sh', memo });
    const before = memo.computed.get('elf')!;
    // contents relocation rewrote are new ones: only those are parsed again
    const buffers = (t: FileTree) => new Set([...t.values()].flatMap((e) => (e.kind === 'file' && e.content.kind === 'bytes' ? [e.content.data] : [])));
    const old = buffers(tree);
    const rewritten = [...buffers(layer)].filter((b) => !old.has(b)).length;
    expect(rewritten).toBeGreaterThan(0);
    checkClosure(layer, ['libc.so.6'], { memo });
    expect(memo.computed.get('elf')).toBe(before + rewritten);
  });
});
