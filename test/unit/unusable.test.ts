import { beforeAll, describe, expect, it } from 'vitest';
import { loadUnusable } from '../../src/registry/load.js';
import type { UnusableGroup } from '../../src/registry/types.js';
import { leaveOutUnusable } from '../../src/stage/unusable.js';
import { bytes, type FileTree, type TreeEntry } from '../../src/tree/types.js';
import { dir as dirEntry } from '../helpers/tree.js';
import { file, symlink } from '../helpers/tree.js';
import { cc } from '../helpers/cc.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 12, class 4: what cannot work on Lambda is left out of the staged root by the data's
 * groups, then the libraries only it needed (mesa's drivers → LLVM → z3). The ELF files are
 * compiled here: a driver that needs a big library that needs a solver, a library both the
 * driver and a kept program need, and a service binary with its private library.
 */
const work = tempDir('yumda-unusable-');
const built = new Map<string, Buffer>();
const lib = async (name: string, needs: string[] = []) => {
  const r = await cc(
    `int f_${name.replace(/\W/g, '_')}(void) { return 1; }\n`,
    name,
    ['-shared', '-fPIC', `-Wl,-soname,${name}`, '-Wl,--no-as-needed', `-L${work}`, ...needs.map((n) => `-l:${n}`)],
    work,
  );
  built.set(name, r.data);
};
const prog = async (name: string, needs: string[]) => {
  const r = await cc('int main(void) { return 0; }\n', name, ['-Wl,--no-as-needed', `-L${work}`, `-Wl,-rpath-link,${work}`, ...needs.map((n) => `-l:${n}`)], work);
  built.set(name, r.data);
};

beforeAll(async () => {
  await lib('libsolver.so.4');
  await lib('libbig.so.15', ['libsolver.so.4']);
  await lib('libshared.so.1');
  await lib('swrast_dri.so', ['libbig.so.15', 'libshared.so.1']);
  await lib('libservice-shared.so');
  await prog('player', ['libshared.so.1']);
  await prog('compiler', ['libbig.so.15']);
  await prog('servicectl', ['libservice-shared.so']);
}, 60_000);

const L = '/usr/lib/x86_64-linux-gnu';
const elf = (p: string, name: string, pkg: string, mode = 0o644): TreeEntry => ({ ...file(p, built.get(name)!, mode, pkg), content: bytes(built.get(name)!) });

/** A staged root as a deb target unpacks it: a player, mesa's drivers under two names, LLVM, z3, and a service manager. */
function staged(): FileTree {
  const entries: TreeEntry[] = [
    dirEntry('/usr'),
    dirEntry('/usr/bin'),
    dirEntry(L),
    dirEntry(`${L}/dri`),
    elf('/usr/bin/player', 'player', 'player', 0o755),
    elf(`${L}/libshared.so.1`, 'libshared.so.1', 'libshared1'),
    elf(`${L}/dri/swrast_dri.so`, 'swrast_dri.so', 'libgl1-mesa-dri'),
    elf(`${L}/dri/kms_swrast_dri.so`, 'swrast_dri.so', 'libgl1-mesa-dri'),
    file('/usr/share/drirc.d/00-mesa-defaults.conf', '<driconf/>', 0o644, 'libgl1-mesa-dri'),
    elf(`${L}/libbig.so.15`, 'libbig.so.15', 'libllvm15'),
    symlink(`${L}/libbig.so`, 'libbig.so.15', 'libllvm15'),
    elf(`${L}/libsolver.so.4`, 'libsolver.so.4', 'libz3-4'),
    elf('/usr/bin/servicectl', 'servicectl', 'systemd', 0o755),
    elf('/usr/lib/systemd/libservice-shared.so', 'libservice-shared.so', 'libsystemd-shared'),
    file('/usr/lib/systemd/system/foo.service', '[Unit]\n', 0o644, 'foo'),
    { ...dirEntry('/usr/lib/systemd/system/multi-user.target.wants'), pkg: 'systemd' },
    { ...dirEntry('/usr/lib/systemd/system-sleep'), pkg: 'systemd' },
    file('/usr/share/foo/data', 'kept', 0o644, 'foo'),
  ];
  return new Map(entries.map((e) => [e.path, e]));
}

const GROUPS: UnusableGroup[] = [
  { id: 'gpu-drivers', what: 'GPU drivers', why: 'Lambda has no GPU', paths: ['/usr/lib/*/dri/**', '/usr/share/drirc.d/**'], packages: { deb: [], rpm: [] } },
  {
    id: 'services',
    what: 'system services',
    why: 'Lambda runs no init system',
    paths: ['/usr/lib/systemd/system/**'],
    packages: { deb: ['systemd', 'libsystemd-shared'], rpm: ['systemd'] },
  },
];

describe('leaveOutUnusable', () => {
  it('leaves out the drivers, then the libraries only they needed, and the links to them; a library a kept program needs stays', () => {
    const tree = staged();
    const report = leaveOutUnusable(tree, GROUPS, { family: 'deb', requested: ['player'], keep: [] });
    expect([...tree.keys()].sort()).toEqual(['/usr', '/usr/bin', '/usr/bin/player', '/usr/lib/x86_64-linux-gnu', `${L}/libshared.so.1`, '/usr/share/foo/data']);
    expect(report.map((r) => ({ ...r, bytes: r.bytes > 0, libraryBytes: r.libraryBytes > 0 }))).toEqual([
      { id: 'gpu-drivers', what: 'GPU drivers', why: 'Lambda has no GPU', files: 3, bytes: true, libraries: ['libbig.so.15', 'libsolver.so.4'], libraryBytes: true },
      // the service library is its own package's: listed among the files, not pruned as a library
      { id: 'services', what: 'system services', why: 'Lambda runs no init system', files: 3, bytes: true, libraries: [], libraryBytes: false },
    ]);
    const drivers = report[0]!;
    expect(drivers.bytes).toBe(2 * built.get('swrast_dri.so')!.length + '<driconf/>'.length);
    expect(drivers.libraryBytes).toBe(built.get('libbig.so.15')!.length + built.get('libsolver.so.4')!.length);
  });

  it('keeps what a kept program still needs, though a driver needed it too', () => {
    const tree = staged();
    // a compiler links the big library too: it stays, and so does the solver under it
    tree.set('/usr/bin/compiler', elf('/usr/bin/compiler', 'compiler', 'llvm', 0o755));
    const report = leaveOutUnusable(tree, GROUPS, { family: 'deb', requested: ['player'], keep: [] });
    expect(tree.has(`${L}/libbig.so.15`)).toBe(true);
    expect(tree.has(`${L}/libsolver.so.4`)).toBe(true);
    expect(report[0]!.libraries).toEqual([]);
  });

  it.each([
    { keep: ['gpu-drivers'], gone: ['services'] },
    { keep: ['services'], gone: ['gpu-drivers'] },
    { keep: 'all', gone: [] },
  ] as Array<{ keep: string[] | 'all'; gone: string[] }>)('--keep-unusable $keep keeps those groups', ({ keep, gone }) => {
    const tree = staged();
    const report = leaveOutUnusable(tree, GROUPS, { family: 'deb', requested: [], keep });
    expect(report.map((r) => r.id)).toEqual(gone);
    expect(tree.has(`${L}/dri/swrast_dri.so`)).toBe(!gone.includes('gpu-drivers'));
    expect(tree.has(`${L}/libbig.so.15`)).toBe(!gone.includes('gpu-drivers'));
    expect(tree.has('/usr/bin/servicectl')).toBe(!gone.includes('services'));
  });

  it('never leaves out a package the user named', () => {
    const tree = staged();
    const report = leaveOutUnusable(tree, GROUPS, { family: 'deb', requested: ['systemd', 'libsystemd-shared'], keep: [] });
    expect(tree.has('/usr/bin/servicectl')).toBe(true);
    expect(tree.has('/usr/lib/systemd/libservice-shared.so')).toBe(true);
    // the unit file is another package's: the group still takes it
    expect(tree.has('/usr/lib/systemd/system/foo.service')).toBe(false);
    expect(report.find((r) => r.id === 'services')!.files).toBe(1);
  });

  it('matches packages of the target family only', () => {
    const tree = staged();
    leaveOutUnusable(tree, GROUPS, { family: 'rpm', requested: [], keep: [] });
    // `libsystemd-shared` is a deb name only; `systemd` is in both lists
    expect(tree.has('/usr/bin/servicectl')).toBe(false);
    expect(tree.has('/usr/lib/systemd/libservice-shared.so')).toBe(false);
    expect(tree.has('/usr/lib/systemd')).toBe(false);
  });

  it('leaves nothing when nothing matches, and removes only the directories it emptied', () => {
    const tree = staged();
    tree.set('/usr/share/empty', dirEntry('/usr/share/empty'));
    const before = [...tree.keys()];
    expect(leaveOutUnusable(tree, [], { family: 'deb', requested: [], keep: [] })).toEqual([]);
    expect([...tree.keys()]).toEqual(before);
    leaveOutUnusable(tree, GROUPS, { family: 'deb', requested: [], keep: [] });
    expect(tree.has('/usr/share/empty')).toBe(true);
    expect(tree.has(`${L}/dri`)).toBe(false);
  });
});

describe('registry/unusable-on-lambda.json', () => {
  const groups = loadUnusable().groups;
  const groupOf = (p: string, pkg: string, family: 'deb' | 'rpm') => {
    const tree: FileTree = new Map([[p, file(p, 'x', 0o644, pkg)]]);
    return leaveOutUnusable(tree, groups, { family, requested: [], keep: [] })[0]?.id;
  };
  it.each([
    // mesa on Debian and on AL2023, the same drivers under each distribution's paths
    ['/usr/lib/x86_64-linux-gnu/dri/radeonsi_dri.so', 'libgl1-mesa-dri', 'deb', 'gpu-drivers'],
    ['/usr/lib/aarch64-linux-gnu/dri/swrast_dri.so', 'libgl1-mesa-dri', 'deb', 'gpu-drivers'],
    ['/usr/lib64/dri/swrast_dri.so', 'mesa-dri-drivers', 'rpm', 'gpu-drivers'],
    ['/usr/lib/x86_64-linux-gnu/dri/iHD_drv_video.so', 'intel-media-va-driver', 'deb', 'gpu-drivers'],
    ['/usr/lib64/dri/radeonsi_drv_video.so', 'mesa-va-drivers', 'rpm', 'gpu-drivers'],
    ['/usr/lib/x86_64-linux-gnu/vdpau/libvdpau_radeonsi.so.1.0.0', 'mesa-vdpau-drivers', 'deb', 'gpu-drivers'],
    ['/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so', 'mesa-vulkan-drivers', 'deb', 'gpu-drivers'],
    ['/usr/share/vulkan/icd.d/lvp_icd.x86_64.json', 'mesa-vulkan-drivers', 'deb', 'gpu-drivers'],
    ['/usr/lib/x86_64-linux-gnu/libmfxhw64.so.1.35', 'libmfx1', 'deb', 'gpu-drivers'],
    ['/lib/systemd/systemd', 'systemd', 'deb', 'services'],
    ['/usr/lib/systemd/systemd', 'systemd', 'rpm', 'services'],
    ['/lib/udev/hwdb.d/20-pci-vendor-model.hwdb', 'udev', 'deb', 'services'],
    ['/usr/lib/x86_64-linux-gnu/spa-0.2/alsa/libspa-alsa.so', 'libspa-0.2-modules', 'deb', 'sound-servers'],
    ['/usr/lib64/spa-0.2/alsa/libspa-alsa.so', 'pipewire-libs', 'rpm', 'sound-servers'],
    // what programs link stays: the loaders and client libraries
    ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', 'libvulkan1', 'deb', undefined],
    ['/usr/lib/x86_64-linux-gnu/libva.so.2', 'libva2', 'deb', undefined],
    ['/usr/lib/x86_64-linux-gnu/libsystemd.so.0', 'libsystemd0', 'deb', undefined],
    ['/usr/lib64/libsystemd.so.0', 'systemd-libs', 'rpm', undefined],
    ['/usr/lib/x86_64-linux-gnu/libdbus-1.so.3', 'libdbus-1-3', 'deb', undefined],
    ['/usr/lib/x86_64-linux-gnu/libpulse.so.0', 'libpulse0', 'deb', undefined],
    ['/usr/lib/x86_64-linux-gnu/libasound.so.2', 'libasound2', 'deb', undefined],
    ['/usr/lib/x86_64-linux-gnu/libGL.so.1', 'libgl1', 'deb', undefined],
  ] as const)('%s (%s, %s): %s', (p, pkg, family, expected) => {
    expect(groupOf(p, pkg, family)).toBe(expected);
  });

  it('gives every group a reason', () => {
    for (const g of groups) expect(g.why).toMatch(/Lambda/);
  });
});
