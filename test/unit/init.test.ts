import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';
import { layerNameFor, manifestTemplate } from '../../src/project/init.js';
import { loadProject } from '../../src/project/manifest.js';
import { loadTarget } from '../../src/registry/load.js';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

describe('yumda init (issue 22)', () => {
  it.each([
    ['jq', 'jq'],
    ['libstdc++6', 'libstdc-6'],
    ['python3.11', 'python3-11'],
    ['x'.repeat(80), 'x'.repeat(64)],
    ['++', 'layer'],
  ])('layer name of %s: %s', (pkg, name) => {
    expect(layerNameFor(pkg)).toBe(name);
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
  });

  it.each([
    { target: 'debian12', arch: 'x86_64' as const, packages: [{ name: 'jq' }] },
    { target: 'al2023', arch: 'arm64' as const, packages: [{ name: 'poppler-utils' }, { name: 'ghostscript', version: '9.56.1-1.amzn2023.0.1' }] },
    { target: 'al2', arch: 'x86_64' as const, packages: [{ name: 'libstdc++' }, { name: 'odd', version: '1:2.0-1.amzn2' }] },
    { target: 'debian13', arch: 'arm64' as const, packages: [{ name: 'imagemagick' }] },
  ])('the $target manifest it writes loads as the layer it declares', ({ target, arch, packages }) => {
    const dir = tempDir();
    const file = path.join(dir, 'yumda.yaml');
    const text = manifestTemplate({ name: 'layer1', target: loadTarget(target), arch, packages });
    writeFileSync(file, text);
    const [job, ...more] = loadProject(file).jobs;
    expect(more).toEqual([]);
    expect(job).toMatchObject({ name: 'layer1', target, packages, outputs: { zip: path.join(dir, `dist/layer1-${arch}.zip`) }, pack: false, scripts: true });
    expect(job!.arch.lambda).toBe(arch);
    // commented: every optional field is there as a comment, and nothing but comments is past the packages
    expect(text).toMatch(/^ {4}# repos: /m);
    expect(text).toMatch(/^ {4}# pack: true +# as --pack/m);
    expect(text.split('\n').every((l) => l.length <= 130)).toBe(true);
    expect(parseDocument(text).errors).toEqual([]);
  });

  it('through the CLI: writes yumda.yaml, refuses to replace it unless --force, and never makes a second manifest', async () => {
    const dir = tempDir();
    const first = await runYumda(['init', 'jq', '--target', 'debian12'], { cwd: dir });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^Wrote .*yumda\.yaml: layer 'jq' \(debian12 x86_64, 1 package\); `yumda build` builds it\n$/);
    const file = path.join(dir, 'yumda.yaml');
    expect(loadProject(file).jobs.map((j) => [j.name, j.target, j.packages])).toEqual([['jq', 'debian12', [{ name: 'jq' }]]]);

    const again = await runYumda(['init', 'curl', '--target', 'debian12'], { cwd: dir });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/^yumda: error: yumda\.yaml already exists in .*: edit it, or pass --force to replace it\n$/);
    expect(loadProject(file).jobs[0]!.name).toBe('jq');

    const forced = await runYumda(['init', 'curl', 'jq=1.6-2.1+deb12u1', '--target', 'debian12', '--arch', 'arm64', '--name', 'tools', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(loadProject(file).jobs.map((j) => [j.name, j.arch.lambda, j.packages])).toEqual([['tools', 'arm64', [{ name: 'curl' }, { name: 'jq', version: '1.6-2.1+deb12u1' }]]]);

    const other = tempDir();
    writeFileSync(path.join(other, 'yumda.json'), '{"layers": []}');
    const json = await runYumda(['init', 'jq', '--force'], { cwd: other });
    expect(json.code).not.toBe(0);
    expect(json.stderr).toMatch(/^yumda: error: yumda\.json already declares this directory's layers/);
    expect(existsSync(path.join(other, 'yumda.yaml'))).toBe(false);
  });

  it.each([
    [['init', 'jq', '--target', 'nope'], /target/],
    [['init', 'jq', '--name', 'bad name'], /^yumda: error: --name 'bad name': a layer name is /],
    [['init', 'not a package'], /is not a package name/],
    [['init'], /missing required argument 'packages'/],
  ])('refuses %j with one line and writes nothing', async (args, message) => {
    const dir = tempDir();
    const r = await runYumda(args, { cwd: dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr.split('\n')[0]).toMatch(message);
    expect(existsSync(path.join(dir, 'yumda.yaml'))).toBe(false);
  });
});
