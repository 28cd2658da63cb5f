import type { GatedLayer } from '../../src/format/gated.js';
import type { FileTree } from '../../src/tree/types.js';

/** A test's layer handed straight to a writer: the writer, not the gate, is what these tests are about. */
export const gated = (tree: FileTree): GatedLayer => tree as GatedLayer;
