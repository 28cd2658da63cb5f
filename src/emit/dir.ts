import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeAtomically, type ReplaceRule } from '../util/atomic.js';
import type { FileTree } from '../tree/types.js';
import { archiveEntries } from './archive-entries.js';
import { outputRule } from './outputs.js';

/**
 * Writes a layer as a plain directory (what /opt would hold), atomically; an existing `dest` is
 * replaced only when it is empty or a layer directory yumda wrote.
 */
export async function writeLayerDir(layer: FileTree, dest: string, rule: ReplaceRule = outputRule({ kind: 'dir', what: 'the layer directory' })): Promise<void> {
  await writeAtomically(
    dest,
    async (tmp) => {
      await fs.mkdir(tmp, { recursive: true });
      const dirModes: Array<[string, number]> = [];
      for (const { name, entry } of archiveEntries(layer)) {
        const p = path.join(tmp, name);
        switch (entry.kind) {
          case 'dir':
            await fs.mkdir(p, { recursive: true });
            dirModes.push([p, entry.mode]);
            break;
          case 'symlink':
            await fs.mkdir(path.dirname(p), { recursive: true });
            await fs.symlink(entry.target, p);
            break;
          case 'file':
            await fs.mkdir(path.dirname(p), { recursive: true });
            if (entry.content.kind === 'file') await fs.copyFile(entry.content.hostPath, p);
            else await fs.writeFile(p, entry.content.data);
            await fs.chmod(p, entry.mode);
            break;
        }
      }
      // modes last, deepest first: a read-only directory must not stop its own contents being written
      for (const [p, mode] of dirModes.reverse()) await fs.chmod(p, mode | 0o200);
    },
    rule,
  );
}
