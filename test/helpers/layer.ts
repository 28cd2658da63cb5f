import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import type { LayerManifest } from '../../src/format/layer-manifest.js';
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

/** A complete layer manifest as yumda writes it (one package), with fields replaced by `over`: tests of the readers start from it. */
export function manifestOf(over: Partial<Record<keyof LayerManifest, unknown>> = {}): LayerManifest {
  return {
    manifestVersion: 1,
    tool: { name: 'yumda', version: '0.1.0' },
    target: 'debian12',
    arch: 'x86_64',
    runtime: 'debian12',
    requested: ['tool'],
    packages: [{ name: 'tool', version: '1.0', arch: 'amd64', requiredBy: [], files: 1, bytes: 3 }],
    generatedBytes: 0,
    env: {},
    recipes: [],
    ...over,
  } as LayerManifest;
}
