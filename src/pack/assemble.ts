import { createHash } from 'node:crypto';
import path from 'node:path';
import { PRIVATE_INTERPRETER, PRIVATE_LIBRARY_DIR } from '../relocate/self-contained.js';
import { setInterpreter } from '../elf/patch.js';
import { isElf, parseElf } from '../elf/read.js';
import { resolvePath } from '../tree/resolve.js';
import { addWithParents, bytes, readContent, type Content, type FileEntry, type FileTree, type TreeEntry } from '../tree/types.js';
import { sha256 } from '../util/hash.js';
import { UserError } from '../util/errors.js';
import { launcherScript, packedExecWrapperScript } from './launcher.js';
import { checkPackedLayer, tmpBytes, UNPACKED_MARKER, type PackedLayer, type PackedProgram } from './packed-layer.js';
import { PACKED_ROOT, retargetString, retargetTree, topLevelNames, type RetargetReport } from './retarget.js';
import { ENV_PATH, EXEC_WRAPPER_PATH, LAYER_ROOT, META_DIR } from '../format/lambda.js';

/**
 * Turns a relocated layer into a packed one (pure, but for `readContent` of the tree's files):
 * the tree moves to /tmp (retarget.ts) and goes into one archive; the layer keeps yumda's own
 * files, the unpack tools and a launcher per program. Compressing is the caller's (compress.ts).
 */

export const PACK_ARCHIVE = `${META_DIR}/pack/tree.tar.zst`;
export const PACK_TOOLS_BIN = `${META_DIR}/bin`;
export const PACK_TOOLS_LIB = `${META_DIR}/lib`;
/**
 * zstd's levels and window (docs/packed-layers.md has the measurements behind them): level 9
 * compresses Chromium's tree 17x faster than 19 for a 12% bigger archive, and unpacks as fast;
 * a layer that does not fit under Lambda's limit at 9 is compressed again at 19.
 */
export const PACK_LEVEL = 9;
export const PACK_TIGHT_LEVEL = 19;
export const PACK_WINDOW_LOG = 27;

/** The tree that goes into the archive, relocated for /tmp, and what it takes there. */
export interface PackedTree {
  /** Keyed by /opt path, as relocation left them; archived relative to /opt. */
  tree: FileTree;
  /** Identity of the archive's contents: names, modes, links, content hashes. */
  digest: string;
  topLevel: string[];
  unpackDir: string;
  unpackedBytes: number;
  /** Bytes of the files and links (what `du --apparent-size` would say), for the report. */
  contentBytes: number;
  files: number;
  retarget: RetargetReport;
  /** The layer's environment (ENV_PATH), moved to /tmp with the tree. */
  env: Record<string, string>;
}

/** The layer's own files, outside the archive: what relocation wrote in /opt/.yumda. */
function isMeta(p: string): boolean {
  return p === META_DIR || p.startsWith(`${META_DIR}/`);
}

function contentDigest(c: Content): string {
  return c.kind === 'file' && c.sha256 ? c.sha256 : sha256(readContent(c));
}

function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

/** Splits the relocated layer into the tree to pack (moved to /tmp) and its description. */
export function packedTree(layer: FileTree, save?: (data: Buffer) => Content): PackedTree {
  const tree: FileTree = new Map();
  for (const [p, e] of layer) if (!isMeta(p)) tree.set(p, e);
  const { tree: moved, report } = retargetTree(tree, save);
  const topLevel = topLevelNames(moved);
  const h = createHash('sha256');
  let contentBytes = 0;
  let files = 0;
  for (const p of [...moved.keys()].sort()) {
    const e = moved.get(p)!;
    if (e.kind === 'dir') h.update(`d ${p} ${e.mode}\n`);
    else if (e.kind === 'symlink') {
      h.update(`l ${p} ${e.target}\n`);
      contentBytes += Buffer.byteLength(e.target);
      files++;
    } else {
      h.update(`f ${p} ${e.mode} ${e.size} ${contentDigest(e.content)}\n`);
      contentBytes += e.size;
      files++;
    }
  }
  const digest = h.digest('hex');
  const envEntry = layer.get(ENV_PATH);
  const top = new Set(topLevel);
  const env = Object.fromEntries(
    Object.entries(envEntry?.kind === 'file' ? parseEnvFile(readContent(envEntry.content).toString()) : {}).map(([k, v]) => [k, retargetString(v, top)]),
  );
  return {
    tree: moved,
    digest,
    topLevel,
    unpackDir: `${PACKED_ROOT}/yumda-pack-${digest.slice(0, 12)}`,
    // the marker the launcher writes last is one more file
    unpackedBytes: tmpBytes([...moved.values(), { kind: 'file', path: UNPACKED_MARKER, mode: 0o644, size: 64, content: bytes('') }]),
    contentBytes,
    files,
    retarget: report,
    env,
  };
}

/** Where the unpack tools come from: shipped in the layer, or the runtime's own. */
export interface UnpackToolSource {
  /** The tools' relocated layer (`yumda install tar zstd` for the same target and runtime). */
  layer: FileTree;
  /** Packages the runtime has: a tool the tools' layer lacks because the runtime has it runs from /usr/bin. */
  runtimePackages: ReadonlySet<string>;
}

/**
 * tar and zstd for the launcher: each from the tools' layer (its program and every shared library
 * that layer ships go to /opt/.yumda/{bin,lib}, off Lambda's search paths), else from the runtime.
 */
export function unpackTools(src: UnpackToolSource): { entries: TreeEntry[]; tar: string; zstd: string } {
  const entries: TreeEntry[] = [];
  const paths: Record<string, string> = {};
  for (const tool of ['tar', 'zstd']) {
    const at = `${LAYER_ROOT}/bin/${tool}`;
    const resolved = src.layer.has(at) ? resolvePath(src.layer, at, { treeIs: 'partial' }) : undefined;
    const real = resolved?.kind === 'found' ? resolved.entry : undefined;
    if (real?.kind === 'file') {
      paths[tool] = `${PACK_TOOLS_BIN}/${tool}`;
      entries.push({ ...selfContainedTool(real), path: paths[tool]!, mode: 0o755 });
    } else if (src.runtimePackages.has(tool)) {
      paths[tool] = `/usr/bin/${tool}`;
    } else {
      throw new UserError(`cannot pack the layer: the target's ${tool} package gave no ${at}, and the runtime has no ${tool}`, {
        hint: 'a packed layer ships tar and zstd to unpack itself on Lambda',
      });
    }
  }
  if (entries.length > 0) {
    // a self-contained tools' layer (--from) keeps its libraries, C library and loader among
    // them, in PRIVATE_LIBRARY_DIR
    for (const [p, e] of src.layer) {
      const dir = path.posix.dirname(p);
      if ((dir !== `${LAYER_ROOT}/lib` && dir !== PRIVATE_LIBRARY_DIR) || e.kind === 'dir') continue;
      entries.push({ ...e, path: `${PACK_TOOLS_LIB}/${path.posix.basename(p)}` });
    }
  }
  return { entries, tar: paths.tar!, zstd: paths.zstd! };
}

/**
 * A tool of a self-contained tools' layer names the loader in PRIVATE_LIBRARY_DIR, which a packed
 * layer does not have before it unpacks: it names the one among the tools' libraries instead
 * (the same bytes; the path is shorter). Its RPATH names directories a packed layer lacks, so the
 * launcher's LD_LIBRARY_PATH of the tools' libraries is what it searches.
 */
function selfContainedTool(e: FileEntry): FileEntry {
  const data = readContent(e.content);
  if (!isElf(data) || parseElf(data).interpreter !== PRIVATE_INTERPRETER) return e;
  const r = setInterpreter(data, `${PACK_TOOLS_LIB}/${path.posix.basename(PRIVATE_INTERPRETER)}`);
  if ('error' in r) throw new UserError(`cannot pack the layer: its unpack tool ${e.path}: ${r.error}`);
  return { ...e, content: bytes(r.data), size: r.data.length };
}

/** The programs the packed layer offers: what its tree has in /opt/bin, each an executable file or a link to one. */
export function packedPrograms(tree: FileTree): PackedProgram[] {
  const out: PackedProgram[] = [];
  for (const [p, e] of tree) {
    if (path.posix.dirname(p) !== `${LAYER_ROOT}/bin` || e.kind === 'dir') continue;
    const name = path.posix.basename(p);
    if (name.startsWith('.')) continue; // a wrapped program's real binary
    const resolved = resolvePath(tree, p, { treeIs: 'partial' });
    const real = resolved.kind === 'found' ? resolved.entry : undefined;
    if (real?.kind !== 'file' || (real.mode & 0o111) === 0) continue;
    // the real path: scripts such as soffice find their files next to $0, following links
    out.push({ name, target: `bin/${name}`, argv0: 'real' });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

export interface PackedLayerInput {
  packed: PackedTree;
  archive: { content: Content; bytes: number };
  tools: { entries: TreeEntry[]; tar: string; zstd: string };
  /** The relocated layer's own files (/opt/.yumda): kept, but for the environment and exec wrapper, rewritten for /tmp. */
  meta: FileTree;
}

/** The layer Lambda gets: the archive, the tools, a launcher per program, yumda's files. */
export function packedLayer(input: PackedLayerInput): { layer: FileTree; description: PackedLayer } {
  const { packed } = input;
  const programs = packedPrograms(packed.tree);
  if (programs.length === 0) {
    throw new UserError('cannot pack the layer: it has no programs in /opt/bin to launch', {
      hint: 'a packed layer is used through its programs (or the exec wrapper); install a package that has some, or leave out --pack',
    });
  }
  const description: PackedLayer = {
    archive: PACK_ARCHIVE,
    compression: { format: 'zstd', windowLog: PACK_WINDOW_LOG },
    packedBytes: input.archive.bytes,
    unpackDir: packed.unpackDir,
    links: packed.topLevel,
    unpackedBytes: packed.unpackedBytes,
    libraryDirs: packed.topLevel.includes('lib') ? [`${PACKED_ROOT}/lib`] : [],
    tools: { tar: input.tools.tar, zstd: input.tools.zstd, libraryPath: PACK_TOOLS_LIB },
    programs,
    env: packed.env,
  };
  checkPackedLayer(description);
  const layer: FileTree = new Map();
  const add = (e: TreeEntry) => addWithParents(layer, e, LAYER_ROOT);
  const text = (p: string, s: string, mode: number) => {
    const data = Buffer.from(s);
    add({ kind: 'file', path: p, mode, size: data.length, content: bytes(data) });
  };
  for (const [p, e] of input.meta) if (p !== ENV_PATH && p !== EXEC_WRAPPER_PATH && e.kind !== 'dir') add(e);
  add({ kind: 'file', path: PACK_ARCHIVE, mode: 0o644, size: input.archive.bytes, content: input.archive.content });
  for (const e of input.tools.entries) add(e);
  for (const p of programs) text(`${LAYER_ROOT}/bin/${p.name}`, launcherScript(description, p), 0o755);
  if (Object.keys(packed.env).length > 0) {
    text(
      ENV_PATH,
      `# Environment the libraries of this packed layer need once unpacked; set AWS_LAMBDA_EXEC_WRAPPER=${EXEC_WRAPPER_PATH},\n` +
        '# which unpacks the layer and sets them (programs in /opt/bin set them themselves).\n' +
        Object.keys(packed.env)
          .sort()
          .map((k) => `${k}=${packed.env[k]}\n`)
          .join(''),
      0o644,
    );
  }
  text(EXEC_WRAPPER_PATH, packedExecWrapperScript(description), 0o755);
  return { layer, description };
}
