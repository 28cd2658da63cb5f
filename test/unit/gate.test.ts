import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateLayer, type GateInput, type GateOptions } from '../../src/check/gate.js';
import { Diagnostics } from '../../src/util/diagnostics.js';
import { relocate } from '../../src/relocate/relocate.js';
import type { FileTree, TreeEntry } from '../../src/tree/types.js';
import { repoRoot } from '../helpers/cli.js';

const file = (p: string, size: number, mode = 0o755): TreeEntry => ({ kind: 'file', path: p, mode, size, content: { kind: 'bytes', data: Buffer.from(p) } });
const tree = (...entries: TreeEntry[]): FileTree => new Map(entries.map((e) => [e.path, e]));
const input = (over: Partial<GateInput> = {}): GateInput => ({ layer: tree(file('/opt/bin/tool', 10)), missing: [], runtimeId: 'debian12', ...over });
const opts = (over: Partial<GateOptions> = {}): GateOptions => ({ allowMissing: false, force: false, limit: 'layer', ...over });
const missing = [{ file: '/opt/bin/tool', soname: 'libjq.so.1', candidate: 'libjq1' }];

describe('the write gate', () => {
  const cases: Array<[string, GateInput, GateOptions, RegExp | null, string[]]> = [
    ['a whole layer passes', input(), opts(), null, []],
    [
      'a missing library is refused, naming it',
      input({ missing }),
      opts(),
      /1 shared library needed by the layer is missing \(libjq\.so\.1\); nothing written/,
      ['/opt/bin/tool needs libjq.so.1, which is neither in the layer nor in the debian12 runtime (package libjq1 has it)'],
    ],
    [
      '--allow-missing lets it through, still warned',
      input({ missing }),
      opts({ allowMissing: true }),
      null,
      ['/opt/bin/tool needs libjq.so.1, which is neither in the layer nor in the debian12 runtime (package libjq1 has it)'],
    ],
    ['one byte over 262144000 is refused', input({ layer: tree(file('/opt/lib/big', 262_144_001)) }), opts(), /over Lambda's limit of 262144000 bytes/, []],
    ['exactly 262144000 passes', input({ layer: tree(file('/opt/lib/big', 262_144_000)) }), opts(), null, []],
    ['--force writes over the limit', input({ layer: tree(file('/opt/lib/big', 300_000_000)) }), opts({ force: true }), null, []],
    ['an image may hold more than a layer', input({ layer: tree(file('/opt/lib/big', 300_000_000)) }), opts({ limit: 'image' }), null, []],
    ['but not more than 10 GB', input({ layer: tree(file('/opt/lib/big', 11 * 1024 ** 3)) }), opts({ limit: 'image' }), /over Lambda's 10 GB limit for a container image/, []],
    [
      'a setuid file (a layer made elsewhere) is refused',
      input({ layer: tree(file('/opt/bin/sudo', 10, 0o4755)) }),
      opts(),
      /setuid, setgid or sticky bits \(\/opt\/bin\/sudo -rwsr-xr-x\)/,
      [],
    ],
  ];
  it.each(cases)('%s', (_, inp, o, refusal, warnings) => {
    const said: string[] = [];
    const run = () => gateLayer(inp, o, new Diagnostics((w) => said.push(w)));
    if (refusal) expect(run).toThrow(refusal);
    else expect(run().unzippedBytes).toBe([...inp.layer.values()].reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0));
    expect(said).toEqual(warnings);
  });

  it("reports every warning of the layer's one channel: the build's, said when they happened, then its own", () => {
    const said: string[] = [];
    const diagnostics = new Diagnostics((w) => said.push(w));
    diagnostics.warn('skew: base 1.0 < 1.1');
    const report = gateLayer(input({ missing }), opts({ allowMissing: true }), diagnostics);
    const missingLine = '/opt/bin/tool needs libjq.so.1, which is neither in the layer nor in the debian12 runtime (package libjq1 has it)';
    expect(said).toEqual(['skew: base 1.0 < 1.1', missingLine]);
    expect(report.warnings).toEqual(['skew: base 1.0 < 1.1', missingLine]);
  });
});

describe('over the layer limit, the way out', () => {
  const hintOf = (inp: GateInput, o: GateOptions): string | undefined => {
    try {
      gateLayer(inp, o, new Diagnostics());
    } catch (e) {
      return (e as { hint?: string }).hint;
    }
    return 'not refused';
  };
  const big = tree(file('/opt/lib/big', 300_000_000));
  it.each<[string, GateInput, GateOptions, RegExp]>([
    ['a layer yumda built unpacked: --pack', input({ layer: big, packable: true }), opts(), /^pass --pack \(or "pack": true in yumda\.json\) to ship it compressed/],
    ['a packed layer still over: drop packages', input({ layer: big, packable: false }), opts(), /^drop packages, or pass --force/],
    ['a layer made elsewhere: drop packages', input({ layer: big }), opts(), /^drop packages, or pass --force/],
  ])('%s', (_what, inp, o, hint) => {
    expect(hintOf(inp, o)).toMatch(hint);
  });
});

describe('relocation clears setuid, setgid and sticky bits', () => {
  it('strips them and reports each file', () => {
    const staged = tree(file('/usr/bin/sudo', 4, 0o4755), file('/usr/bin/wall', 4, 0o2755), file('/usr/bin/ls', 4, 0o755));
    const { layer, report } = relocate({
      staged,
      layout: { triplet: 'x86_64-linux-gnu', keep: { docs: false, locales: false, headers: false, staticLibs: false } },
      recipes: [],
      shell: '/bin/sh',
    });
    expect((layer.get('/opt/bin/sudo') as { mode: number }).mode).toBe(0o755);
    expect((layer.get('/opt/bin/wall') as { mode: number }).mode).toBe(0o755);
    expect(report.strippedModes).toEqual([
      { path: '/opt/bin/sudo', from: 0o4755, to: 0o755 },
      { path: '/opt/bin/wall', from: 0o2755, to: 0o755 },
    ]);
    expect(() => gateLayer(input({ layer }), opts(), new Diagnostics())).not.toThrow();
  });
});

describe('the gate as a type', () => {
  it('only gateLayer makes a GatedLayer: no other module of src/ casts to it', () => {
    const root = path.join(repoRoot, 'src');
    const casts = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .filter((f) => /\bas GatedLayer\b/.test(readFileSync(path.join(root, f), 'utf8')));
    expect(casts).toEqual(['check/gate.ts']);
  });
});
