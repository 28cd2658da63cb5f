import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { FileTree } from '../../src/tree/types.js';

/** An unpacked layer directory as the file tree it was made from, rooted at /opt. */
export function treeFromDir(dir: string, root = '/opt'): FileTree {
  const tree: FileTree = new Map();
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = path.posix.join(rel, name);
      const host = path.join(dir, r);
      const st = lstatSync(host);
      const p = path.posix.join(root, r);
      if (st.isSymbolicLink()) tree.set(p, { kind: 'symlink', path: p, target: readlinkSync(host) });
      else if (st.isDirectory()) {
        tree.set(p, { kind: 'dir', path: p, mode: st.mode & 0o7777 });
        walk(r);
      } else tree.set(p, { kind: 'file', path: p, mode: st.mode & 0o7777, size: st.size, content: { kind: 'file', hostPath: host } });
    }
  };
  walk('');
  return tree;
}
