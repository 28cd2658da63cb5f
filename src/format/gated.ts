import type { FileTree } from '../tree/types.js';

declare const passedTheGate: unique symbol;

/**
 * A layer that passed the write gate (check/gate.ts): the only kind of tree the writers take (a
 * zip and its SBOM, a directory, an image, a tarball), so the compiler enforces that every output
 * is gated. Only gateLayer makes one: the brand has no value to forge, and nothing else casts to it.
 */
export type GatedLayer = FileTree & { readonly [passedTheGate]: true };
