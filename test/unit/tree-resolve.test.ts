import { describe, expect, it } from 'vitest';
import { resolvePath, withImpliedDirs, type ResolveOptions, type Resolution } from '../../src/tree/resolve.js';
import type { FileTree, TreeEntry } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';

/** A layer as it unpacks at /opt: the root directories are there, the rest is what the case adds. */
function layer(...entries: TreeEntry[]): FileTree {
  return treeOf([dir('/opt'), dir('/opt/lib'), dir('/opt/bin'), file('/opt/lib/libx.so.1', 'x'), ...entries]);
}

/** A chain /opt/c0 -> c1 -> … -> c{n-1} -> lib/libx.so.1: n links in all. */
function chain(n: number): TreeEntry[] {
  return Array.from({ length: n }, (_, i) => symlink(`/opt/c${i}`, i === n - 1 ? 'lib/libx.so.1' : `c${i + 1}`));
}

/** What a case expects; a found case names its entry only where the entry is the point. */
type Want = Exclude<Resolution<unknown>, { kind: 'found' }> | { kind: 'found'; path: string; entry?: unknown };

const cases: Array<{ name: string; tree: FileTree; path: string; opts?: ResolveOptions; want: Want }> = [
  // what resolves
  { name: 'a file', tree: layer(), path: '/opt/lib/libx.so.1', want: { kind: 'found', path: '/opt/lib/libx.so.1' } },
  { name: 'the root', tree: layer(), path: '/', want: { kind: 'found', path: '/' } },
  { name: 'a relative link', tree: layer(symlink('/opt/lib/libx.so', 'libx.so.1')), path: '/opt/lib/libx.so', want: { kind: 'found', path: '/opt/lib/libx.so.1' } },
  {
    name: 'a chain of relative and absolute links',
    tree: layer(symlink('/opt/bin/a', '../lib/b'), symlink('/opt/lib/b', '/opt/lib/libx.so.1')),
    path: '/opt/bin/a',
    want: { kind: 'found', path: '/opt/lib/libx.so.1' },
  },
  { name: 'a link in a parent directory', tree: layer(symlink('/opt/lib64', 'lib')), path: '/opt/lib64/libx.so.1', want: { kind: 'found', path: '/opt/lib/libx.so.1' } },
  {
    name: '`..` after a link climbs from where the link led, as the kernel does',
    tree: layer(dir('/opt/deep'), dir('/opt/deep/er'), symlink('/opt/bin/into', '../deep/er'), file('/opt/deep/libx.so.1', 'y'), symlink('/opt/bin/up', 'into/../libx.so.1')),
    path: '/opt/bin/up',
    want: { kind: 'found', path: '/opt/deep/libx.so.1' },
  },
  { name: '`..` at / stays at /', tree: layer(symlink('/opt/bin/r', '../../../../opt/lib/libx.so.1')), path: '/opt/bin/r', want: { kind: 'found', path: '/opt/lib/libx.so.1' } },
  {
    name: 'empty and `.` components name nothing',
    tree: layer(symlink('/opt/bin/d', './/..//lib/./libx.so.1')),
    path: '/opt/bin/d',
    want: { kind: 'found', path: '/opt/lib/libx.so.1' },
  },
  { name: 'an empty target leads to the link’s directory', tree: layer(symlink('/opt/lib/here', '')), path: '/opt/lib/here', want: { kind: 'found', path: '/opt/lib' } },
  { name: 'a link to a directory', tree: layer(symlink('/opt/l', 'lib')), path: '/opt/l', want: { kind: 'found', path: '/opt/lib', entry: dir('/opt/lib') } },
  { name: '40 links, Linux’s limit', tree: layer(...chain(40)), path: '/opt/c0', want: { kind: 'found', path: '/opt/lib/libx.so.1' } },

  // what does not
  { name: 'a dangling link', tree: layer(symlink('/opt/lib/gone.so', 'gone.so.1')), path: '/opt/lib/gone.so', want: { kind: 'dangling', path: '/opt/lib/gone.so.1' } },
  {
    name: 'a missing directory on the way',
    tree: layer(symlink('/opt/bin/a', '../nowhere/../lib/libx.so.1')),
    path: '/opt/bin/a',
    want: { kind: 'dangling', path: '/opt/nowhere' },
  },
  {
    name: 'a file used as a directory',
    tree: layer(symlink('/opt/bin/a', '../lib/libx.so.1/x')),
    path: '/opt/bin/a',
    want: { kind: 'not-a-directory', path: '/opt/lib/libx.so.1' },
  },
  { name: 'a file followed by `..`', tree: layer(), path: '/opt/lib/libx.so.1/../libx.so.1', want: { kind: 'not-a-directory', path: '/opt/lib/libx.so.1' } },
  { name: 'a link to itself', tree: layer(symlink('/opt/a', 'a')), path: '/opt/a', want: { kind: 'loop', path: '/opt/a' } },
  { name: 'two links to each other', tree: layer(symlink('/opt/a', 'b'), symlink('/opt/b', 'a')), path: '/opt/a', want: { kind: 'loop', path: '/opt/a' } },
  {
    name: 'a directory link into itself',
    tree: layer(symlink('/opt/lib/self', '.')),
    path: '/opt/lib/self/self/self/libx.so.1',
    want: { kind: 'found', path: '/opt/lib/libx.so.1' },
  },
  { name: '41 links, one past the limit', tree: layer(...chain(41)), path: '/opt/c0', want: { kind: 'loop', path: '/opt/c40' } },
  { name: 'a limit of its own', tree: layer(...chain(3)), path: '/opt/c0', opts: { maxLinks: 2 }, want: { kind: 'loop', path: '/opt/c2' } },

  // hostile layers, confined to /opt
  {
    name: 'an absolute link to /etc/passwd',
    tree: layer(symlink('/opt/lib/passwd', '/etc/passwd')),
    path: '/opt/lib/passwd',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/etc', through: { link: '/opt/lib/passwd', target: '/etc/passwd' } },
  },
  {
    name: 'a relative link up and out',
    tree: layer(symlink('/opt/lib/up', '../../..')),
    path: '/opt/lib/up',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/lib/up', target: '../../..' } },
  },
  {
    name: 'a link that climbs out and comes back in',
    tree: layer(symlink('/opt/bin/l', '../../opt/lib/libx.so.1')),
    path: '/opt/bin/l',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/bin/l', target: '../../opt/lib/libx.so.1' } },
  },
  {
    name: 'an absolute link that climbs out and comes back in',
    tree: layer(symlink('/opt/bin/l', '/opt/../opt/lib/libx.so.1')),
    path: '/opt/bin/l',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/bin/l', target: '/opt/../opt/lib/libx.so.1' } },
  },
  {
    name: 'an absolute link to /',
    tree: layer(symlink('/opt/root', '/')),
    path: '/opt/root',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/', through: { link: '/opt/root', target: '/' } },
  },
  {
    name: 'an absolute link to a sibling whose name starts like the confining one',
    tree: layer(symlink('/opt/o', '/optional/x')),
    path: '/opt/o',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/optional', through: { link: '/opt/o', target: '/optional/x' } },
  },
  {
    // each link alone stays inside; followed, the second lands in /
    name: 'two harmless-looking links',
    tree: layer(symlink('/opt/bin/top', '/opt'), symlink('/opt/bin/up', 'top/../../..')),
    path: '/opt/bin/up',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/bin/up', target: 'top/../../..' } },
  },
  {
    name: 'out through another link: the culprit is named',
    tree: layer(symlink('/opt/bin/a', '../lib/b'), symlink('/opt/lib/b', '../../etc')),
    path: '/opt/bin/a',
    opts: { confineTo: '/opt' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/lib/b', target: '../../etc' } },
  },
  { name: 'a path asked for outside', tree: layer(), path: '/etc/passwd', opts: { confineTo: '/opt' }, want: { kind: 'escapes', path: '/etc' } },
  {
    name: 'a dangling link inside is no escape',
    tree: layer(symlink('/opt/lib/gone.so', 'gone.so.1')),
    path: '/opt/lib/gone.so',
    opts: { confineTo: '/opt' },
    want: { kind: 'dangling', path: '/opt/lib/gone.so.1' },
  },
  {
    name: 'a loop inside is no escape',
    tree: layer(symlink('/opt/a', 'b'), symlink('/opt/b', 'a')),
    path: '/opt/a',
    opts: { confineTo: '/opt' },
    want: { kind: 'loop', path: '/opt/a' },
  },
  {
    name: 'absolute and relative links that stay inside',
    tree: layer(symlink('/opt/bin/a', '/opt/lib/b'), symlink('/opt/lib/b', '../lib/./libx.so.1')),
    path: '/opt/bin/a',
    opts: { confineTo: '/opt' },
    want: { kind: 'found', path: '/opt/lib/libx.so.1' },
  },
  {
    name: 'the confining directory itself',
    tree: layer(symlink('/opt/bin/home', '..')),
    path: '/opt/bin/home',
    opts: { confineTo: '/opt' },
    want: { kind: 'found', path: '/opt' },
  },

  // a partial tree: one layer of several, or a tree that lists only files and links
  {
    name: 'partial: a missing directory may come from elsewhere',
    tree: treeOf([symlink('/opt/bin/a', '../lib/libx.so.1'), file('/opt/lib/libx.so.1', 'x')]),
    path: '/opt/bin/a',
    opts: { treeIs: 'partial' },
    want: { kind: 'found', path: '/opt/lib/libx.so.1' },
  },
  {
    name: 'partial: what the tree lacks is found with no entry',
    tree: treeOf([symlink('/opt/bin/a', 'nowhere/../elsewhere')]),
    path: '/opt/bin/a',
    opts: { treeIs: 'partial' },
    want: { kind: 'found', path: '/opt/bin/elsewhere', entry: undefined },
  },
  {
    name: 'partial: a file on the way is walked through',
    tree: layer(),
    path: '/opt/lib/libx.so.1/x',
    opts: { treeIs: 'partial' },
    want: { kind: 'found', path: '/opt/lib/libx.so.1/x', entry: undefined },
  },
  {
    name: 'partial and confined: a link out through a missing directory',
    tree: treeOf([symlink('/opt/bin/a', 'missing/../../../etc/passwd')]),
    path: '/opt/bin/a',
    opts: { treeIs: 'partial', confineTo: '/opt' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/bin/a', target: 'missing/../../../etc/passwd' } },
  },
  {
    name: 'partial: loops are still loops',
    tree: treeOf([symlink('/opt/a', 'b'), symlink('/opt/b', 'a')]),
    path: '/opt/a',
    opts: { treeIs: 'partial' },
    want: { kind: 'loop', path: '/opt/a' },
  },

  // the cases of layer/entries.ts's own resolver, which this one replaced, under its policy
  {
    name: 'a layer: a chain into a directory it does not list',
    tree: treeOf([symlink('/opt/a', 'b'), symlink('/opt/b', 'lib/c')]),
    path: '/opt/a',
    opts: { confineTo: '/opt', treeIs: 'partial' },
    want: { kind: 'found', path: '/opt/lib/c', entry: undefined },
  },
  {
    name: 'a layer: a loop is no escape',
    tree: treeOf([symlink('/opt/a', 'b'), symlink('/opt/b', 'a')]),
    path: '/opt/a',
    opts: { confineTo: '/opt', treeIs: 'partial' },
    want: { kind: 'loop', path: '/opt/a' },
  },
  {
    name: 'a layer: out and back in is out',
    tree: treeOf([symlink('/opt/x/a', '../../opt/x')]),
    path: '/opt/x/a',
    opts: { confineTo: '/opt', treeIs: 'partial' },
    want: { kind: 'escapes', path: '/opt', through: { link: '/opt/x/a', target: '../../opt/x' } },
  },
];

describe('resolvePath', () => {
  it.each(cases)('$name', ({ tree, path, opts, want }) => {
    const got = resolvePath(tree, path, opts);
    if (got.kind === 'found' && !('entry' in want)) {
      expect({ kind: got.kind, path: got.path }).toEqual(want);
      // found in a complete tree means an entry is there
      if (opts?.treeIs !== 'partial') expect(got.entry).toBe(tree.get(got.path));
    } else {
      expect(got).toEqual(want);
    }
  });
});

describe('withImpliedDirs', () => {
  it('takes the ancestors of entries for directories, and only them', () => {
    const tree = treeOf([file('/usr/share/doc/x/copyright', 'c'), symlink('/usr/share/doc/y', 'x')]);
    expect(resolvePath(tree, '/usr/share/doc/y/copyright')).toEqual({ kind: 'dangling', path: '/usr' });
    const view = withImpliedDirs(tree);
    expect(resolvePath(view, '/usr/share/doc/y/copyright')).toMatchObject({ kind: 'found', path: '/usr/share/doc/x/copyright' });
    expect(resolvePath(view, '/usr/share/doc/y')).toEqual({ kind: 'found', path: '/usr/share/doc/x', entry: { kind: 'dir', implied: true } });
    expect(resolvePath(view, '/usr/share/man')).toEqual({ kind: 'dangling', path: '/usr/share/man' });
  });

  it('sees entries deleted after it was made', () => {
    const tree = treeOf([file('/opt/lib/a/libx.so', 'x'), symlink('/opt/bin/l', '../lib/a')]);
    const view = withImpliedDirs(tree);
    expect(resolvePath(view, '/opt/bin/l')).toMatchObject({ kind: 'found', path: '/opt/lib/a' });
    tree.delete('/opt/lib/a/libx.so');
    expect(resolvePath(view, '/opt/bin/l')).toEqual({ kind: 'dangling', path: '/opt/lib' });
  });
});
