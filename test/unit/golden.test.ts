import { loadTarget } from '../../src/registry/load.js';
import { describe, it } from 'vitest';
import { layerManifest } from '../../src/format/layer-manifest.js';
import { applicableRecipes, loadRecipes } from '../../src/recipes/load.js';
import { DEFAULT_KEEP } from '../../src/relocate/placement.js';
import { relocate } from '../../src/relocate/relocate.js';
import type { PlannedPackage } from '../../src/resolve/plan.js';
import { planFromResolution } from '../../src/backends/rpm/plan.js';
import { rpmPackage } from '../helpers/rpm-package.js';
import { layerSbom } from '../../src/sbom/cyclonedx.js';
import { stagedLicenses } from '../../src/sbom/licenses.js';
import { readContent, sortedEntries, type FileTree } from '../../src/tree/types.js';
import { dir, file, symlink, treeOf } from '../helpers/tree.js';
import { expectGolden } from '../helpers/golden.js';

/**
 * Golden files for the documents and decisions yumda produces from a fixed input, as chisel and
 * apko keep theirs: a change to relocation, the layer manifest or the SBOM shows up as a diff of
 * test/golden/*, reviewed like code. `UPDATE_GOLDEN=1 npx vitest run test/unit/golden.test.ts`
 * rewrites them after an intended change (and skips the tests: they compared nothing).
 */
const COPYRIGHT = 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nCopyright: 2020 Someone\nLicense: MIT\n';

/** A staged root with one of each case relocation decides: every file kind, docs, state, config, fontconfig. */
function staged(): FileTree {
  return treeOf([
    file('/usr/bin/tool', '#!/usr/bin/perl\nmy $data = "/usr/share/tool/data.txt";\n', 0o755, 'tool'),
    file('/usr/bin/sudo-like', 'x', 0o4755, 'tool'),
    symlink('/usr/bin/tool-alias', 'tool', 'tool'),
    file('/usr/lib/x86_64-linux-gnu/libtool.so.1.2.3', 'not really ELF', 0o644, 'libtool1'),
    symlink('/usr/lib/x86_64-linux-gnu/libtool.so.1', 'libtool.so.1.2.3', 'libtool1'),
    symlink('/usr/lib/x86_64-linux-gnu/libtool.so', '/usr/lib/x86_64-linux-gnu/libtool.so.1', 'libtool1'),
    file('/usr/lib/x86_64-linux-gnu/pkgconfig/tool.pc', 'prefix=/usr\nlibdir=/usr/lib/x86_64-linux-gnu\n', 0o644, 'libtool1'),
    file('/usr/lib/x86_64-linux-gnu/libtool.a', 'static', 0o644, 'libtool1'),
    file('/usr/include/tool.h', 'int tool(void);', 0o644, 'libtool1'),
    file('/usr/share/tool/data.txt', 'data', 0o644, 'tool'),
    file('/usr/share/doc/tool/copyright', COPYRIGHT, 0o644, 'tool'),
    file('/usr/share/doc/libtool1/copyright', COPYRIGHT, 0o644, 'libtool1'),
    file('/usr/share/man/man1/tool.1.gz', 'man', 0o644, 'tool'),
    file('/usr/share/locale/de/LC_MESSAGES/tool.mo', 'mo', 0o644, 'tool'),
    file('/etc/tool.conf', 'datadir = /usr/share/tool\ncache = /var/cache/tool\n', 0o644, 'tool'),
    file('/etc/fonts/fonts.conf', '<fontconfig><dir>/usr/share/fonts</dir><cachedir>/var/cache/fontconfig</cachedir></fontconfig>\n', 0o644, 'fontconfig-config'),
    symlink('/etc/fonts/conf.d/10-x.conf', '/usr/share/fontconfig/conf.avail/10-x.conf', 'fontconfig-config'),
    file('/usr/share/fontconfig/conf.avail/10-x.conf', '<fontconfig/>\n', 0o644, 'fontconfig-config'),
    symlink('/usr/bin/dangling', '/usr/lib/nowhere/prog', 'tool'),
    // one driver under three names (hard links in the package), and one program in two directories
    file('/usr/lib/x86_64-linux-gnu/dri/a_dri.so', 'the same driver', 0o644, 'tool'),
    file('/usr/lib/x86_64-linux-gnu/dri/b_dri.so', 'the same driver', 0o644, 'tool'),
    file('/usr/lib/x86_64-linux-gnu/dri/c_dri.so', 'the same driver', 0o644, 'tool'),
    file('/usr/bin/helper', 'same program', 0o755, 'tool'),
    file('/usr/libexec/tool/helper', 'same program', 0o755, 'tool'),
    dir('/var/cache/tool'),
    file('/var/lib/tool/state', 'state', 0o644, 'tool'),
  ]);
}

const pkg = (name: string, requiredBy: string[], requested = false): PlannedPackage => ({
  name,
  version: '1.0-1',
  arch: 'amd64',
  downloadSize: 1000,
  installedSize: 4000,
  requiredBy,
  requested,
  provides: [name],
  depends: [],
  checksum: { algorithm: 'sha256', value: `${name.length}`.repeat(64).slice(0, 64) },
});
const PLAN = { packages: [pkg('fontconfig-config', ['tool']), pkg('libtool1', ['tool']), pkg('tool', ['tool'], true)], fromRuntime: ['libc6'], skew: [] };

function relocated() {
  const recipes = applicableRecipes(loadRecipes(), 'deb', PLAN.packages);
  return { recipes, ...relocate({ staged: staged(), layout: { triplet: 'x86_64-linux-gnu', keep: DEFAULT_KEEP }, recipes, shell: '/bin/sh' }) };
}

describe('golden files', () => {
  it('relocation decisions: where each path goes, what is left out and why, what is rewritten', (ctx) => {
    const { layer, report } = relocated();
    const lines: string[] = [];
    for (const e of sortedEntries(layer.values())) {
      if (e.kind === 'dir') lines.push(`dir  ${e.path} ${e.mode.toString(8)}`);
      else if (e.kind === 'symlink') lines.push(`link ${e.path} -> ${e.target}`);
      else lines.push(`file ${e.path} ${e.mode.toString(8)} ${e.size}B${e.pkg ? ` (${e.pkg})` : ''}`);
    }
    lines.push('', '# left out');
    for (const [why, d] of Object.entries(report.dropped).sort()) lines.push(`${why}: ${d!.files} files, ${d!.bytes} bytes`);
    for (const l of report.droppedLinks) lines.push(`link ${l.path} -> ${l.target}: ${l.why}`);
    lines.push('', '# rewritten in text files');
    for (const r of report.rewritten) lines.push(`${r.file}: ${r.from} -> ${r.to}`);
    lines.push('', '# modes cleared');
    for (const m of report.strippedModes) lines.push(`${m.path}: ${m.from.toString(8)} -> ${m.to.toString(8)}`);
    lines.push('', '# shipped once');
    for (const l of report.deduplicated.linked) lines.push(`${l.path} -> ${l.to}`);
    lines.push(`saved ${report.deduplicated.savedBytes} bytes`);
    lines.push('', '# environment');
    for (const [k, v] of Object.entries(report.env)) lines.push(`${k}=${v}`);
    lines.push('', '# rewritten text files, as written');
    for (const p of ['/opt/etc/tool.conf', '/opt/etc/fonts/fonts.conf', '/opt/lib/pkgconfig/tool.pc', '/opt/bin/tool']) {
      const e = layer.get(p);
      lines.push(`--- ${p}`, e?.kind === 'file' ? readContent(e.content).toString('utf8').trimEnd() : `(${e?.kind ?? 'absent'})`);
    }
    expectGolden(ctx, 'relocate.txt', lines.join('\n') + '\n');
  });

  /** The manifest of the relocated fixture layer, as buildLayer writes it. */
  const manifestOfRelocated = () => {
    const { layer, report, recipes } = relocated();
    return layerManifest({
      target: 'debian12',
      arch: 'x86_64',
      runtime: 'debian12',
      requested: ['tool'],
      packages: PLAN.packages,
      layer,
      env: report.env,
      rewrittenDirectories: report.binaries.rewrittenDirs,
      recipes: recipes.map((r) => r.name),
    });
  };

  it('the layer manifest (/opt/.yumda/manifest.json)', (ctx) => {
    const m = manifestOfRelocated();
    expectGolden(ctx, 'layer-manifest.json', JSON.stringify({ ...m, tool: { ...m.tool, version: 'VERSION' } }, null, 2) + '\n');
  });

  it('the CycloneDX SBOM', (ctx) => {
    const manifest = manifestOfRelocated();
    const bom = layerSbom({
      name: 'tool',
      manifest,
      distro: { name: 'debian', version: '12' },
      family: 'deb',
      licenses: stagedLicenses(staged(), PLAN.packages),
      checksums: new Map(PLAN.packages.map((p) => [p.name, p.checksum!.value])),
    });
    expectGolden(ctx, 'sbom.cdx.json', JSON.stringify(bom, null, 2).replaceAll(manifest.tool.version, 'VERSION') + '\n');
  });

  it('the rpm plan: what the layer ships of a resolved closure, what the runtime satisfies, version skew', (ctx) => {
    const rpm = (name: string, evr: string, provides: string[], requires: Array<[string, string[]]> = [], arch = 'x86_64') => rpmPackage(name, evr, { provides, requires, arch });
    const runtime = {
      id: 'provided.al2023',
      packages: [
        { name: 'glibc', version: '2.34-52.amzn2023.0.3', arch: 'x86_64', provides: ['libc.so.6()(64bit)', 'libc.so.6(GLIBC_2.34)(64bit)'] },
        { name: 'zlib', version: '1.2.11-33.amzn2023.0.4', arch: 'x86_64', provides: ['libz.so.1()(64bit)'] },
      ],
      libraries: ['libc.so.6', 'libz.so.1'],
    };
    const packages = [
      rpm(
        'tool',
        '1:2.0-1.amzn2023',
        [],
        [
          ['libgreet.so.1()(64bit)', ['libgreet']],
          ['libc.so.6(GLIBC_2.34)(64bit)', ['glibc']],
          ['libz.so.1(ZLIB_1.2.13)(64bit)', ['zlib']],
          ['/usr/share/tool/data', ['tool-data']],
        ],
      ),
      rpm('libgreet', '1.1-1.amzn2023', ['libgreet.so.1()(64bit)'], [['libc.so.6()(64bit)', ['glibc']]]),
      rpm('tool-data', '2.0-1.amzn2023', [], [], 'noarch'),
      rpm('glibc', '2.34-52.amzn2023.0.3', ['libc.so.6()(64bit)', 'libc.so.6(GLIBC_2.34)(64bit)']),
      rpm('zlib', '1.2.13-1.amzn2023', ['libz.so.1()(64bit)', 'libz.so.1(ZLIB_1.2.13)(64bit)']),
    ];
    const plan = planFromResolution({
      resolution: { packages, runtimeProvides: {} },
      requested: [{ name: 'tool' }],
      runtime,
      rpmArch: 'x86_64',
      runtimeBound: new Set(loadTarget('al2023').runtimeBound),
    });
    expectGolden(ctx, 'rpm-plan.json', JSON.stringify(plan, null, 2) + '\n');
  });
});
