import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BadInputCase, expectRefused, MANIFEST } from '../helpers/bad-input.js';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

// an engine that cannot answer: each of these must be refused before anything needs one
// (the cases that do need the engine, and a build container, are in test/e2e/bad-input.test.ts)
const noEngine = { DOCKER_HOST: 'unix:///nonexistent.sock' };

const cases: BadInputCase[] = [
  {
    name: '--out naming an existing directory',
    args: (d) => ['install', 'jq', '--target', 'debian12', '--out', path.join(d, 'src')],
    error: /--out: .*\/src is a directory; nothing written; give a file name/,
  },
  {
    name: '--out-dir . (a directory yumda did not write)',
    args: () => ['install', 'jq', '--target', 'debian12', '--out-dir', '.'],
    error: /--out-dir: .* is a directory that yumda did not write/,
  },
  {
    name: 'image --oci naming a directory',
    args: (d) => ['image', 'jq', '--target', 'debian12', '--oci', path.join(d, 'src')],
    error: /--oci: .*\/src is a directory; nothing written/,
  },
  {
    name: '--out into a missing directory',
    args: (d) => ['install', 'jq', '--target', 'debian12', '--out', path.join(d, 'missing', 'x.zip')],
    error: /--out: directory .*\/missing does not exist/,
  },
  {
    name: '--cache-dir naming a file',
    args: () => ['install', 'jq', '--target', 'debian12', '--out', 'x.zip', '--cache-dir', 'yumda.lock'],
    error: /cannot use .*yumda\.lock as the cache directory \(a file is in the way\)/,
  },
  {
    name: "--build-image 'UPPER CASE;…'",
    args: () => ['install', 'jq', '--target', 'debian12', '--out', 'x.zip', '--build-image', 'UPPER CASE;rm -rf /'],
    error: /--build-image: 'UPPER CASE;rm -rf \/' is not an image reference Docker accepts/,
  },
  {
    name: 'manifest outputs.dir "." (the project)',
    files: { 'yumda.yaml': MANIFEST('{ dir: "." }') },
    args: () => ['build'],
    error: /outputs\.dir of layer 'jq' \(debian12 x86_64\): .* is the project directory itself; nothing written/,
  },
  {
    name: 'manifest outputs.dir "../sibling"',
    files: { 'yumda.yaml': MANIFEST('{ dir: "../sibling" }') },
    args: () => ['build'],
    error: /sibling is outside the project directory/,
  },
  {
    name: 'manifest outputs.zip "../../x.zip"',
    files: { 'yumda.yaml': MANIFEST('{ zip: "../../x.zip" }') },
    args: () => ['build'],
    error: /x\.zip is outside the project directory/,
  },
  {
    name: 'manifest outputs.zip absolute',
    files: { 'yumda.yaml': MANIFEST('{ zip: "/tmp/yumda-escape.zip" }') },
    args: () => ['build'],
    error: /\/tmp\/yumda-escape\.zip is outside the project directory/,
  },
  {
    name: 'manifest outputs.dir "yumda.lock"',
    files: { 'yumda.yaml': MANIFEST('{ dir: yumda.lock }') },
    args: () => ['build'],
    error: /yumda\.lock is yumda\.lock, which yumda must not overwrite/,
  },
  {
    name: 'manifest outputs.dir "yumda.yaml"',
    files: { 'yumda.yaml': MANIFEST('{ dir: yumda.yaml }') },
    args: () => ['build'],
    error: /yumda\.yaml is yumda\.yaml, which yumda must not overwrite/,
  },
  {
    name: 'a YAML alias bomb',
    files: {
      'yumda.yaml':
        'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nlayers: [*e]\n',
    },
    args: () => ['build'],
    error: /yumda\.yaml: not a manifest yumda reads \(Excessive alias count/,
  },
  {
    name: 'a null package in a manifest',
    files: { 'yumda.yaml': 'layers:\n  - name: x\n    target: debian12\n    packages: [null]\n' },
    args: () => ['build'],
    error: /yumda\.yaml:4:16: field 'layers\.0\.packages\.0' must be string/,
  },
  {
    name: '--dockerfile with a line break in --yumda-package',
    args: () => ['install', 'jq', '--target', 'debian12', '--dockerfile', '--yumda-package', 'x\nRUN touch /pwned'],
    error: /--yumda-package for --dockerfile holds a line break/,
  },
];

describe('bad input: one line, exit 1, nothing written or removed, no engine needed', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => expectRefused(c, noEngine));
});

describe('a package name of the other family (issue 22)', () => {
  it('install ImageMagick on debian12: refused by the name grammar before any build container, with the Debian name told', async () => {
    const d = tempDir();
    const r = await runYumda(['install', 'ImageMagick', '--target', 'debian12', '--out', path.join(d, 'x.zip')], { cwd: d, env: noEngine });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^yumda: error: 'ImageMagick': 'ImageMagick' is not a Debian package name .*; Debian calls it imagemagick$/);
  });
});
