import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { runYumda } from '../helpers/cli.js';

/**
 * Issue 10's table of inputs that gave a stack trace (exit 70), destroyed a directory or wrote
 * where they should not: each must now give exactly one `yumda: error:` line, exit 1, and leave
 * the working directory as it was. Each case makes its own directory (`d`) with a manifest,
 * a lock, a source file and a sibling directory beside it, and runs from there.
 */
interface Case {
  name: string;
  args: (d: string) => string[];
  /** Files to add to the case's directory before running. */
  files?: Record<string, string>;
  error: RegExp;
}

const MANIFEST = (outputs: string) => `layers:\n  - name: jq\n    target: debian12\n    packages: [jq]\n    outputs: ${outputs}\n`;
const YUMDA_LOCK = '{"lockfileVersion":1,"layers":[]}\n';

const cases: Case[] = [
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
    name: '--network naming no network',
    args: () => ['install', 'jq', '--target', 'debian12', '--out', 'x.zip', '--network', 'bogusnet'],
    error: /the Docker engine has no network 'bogusnet'/,
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
    // apt's flood of "Failed to fetch" lines becomes one, with what to check (issue 10, point 14)
    name: 'a build container without network',
    args: () => ['install', 'jq', '--target', 'debian12', '--out', 'x.zip', '--network', 'none', '--refresh'],
    error:
      /cannot read the debian12 package repositories: .*deb\.debian\.org.*: http:\/\/\S+ \(and \d+ more\); repositories: .*check the build container's network \(--network or YUMDA_DOCKER_NETWORK/,
  },
  {
    name: '--dockerfile with a line break in --yumda-package',
    args: () => ['install', 'jq', '--target', 'debian12', '--dockerfile', '--yumda-package', 'x\nRUN touch /pwned'],
    error: /--yumda-package for --dockerfile holds a line break/,
  },
];

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('bad input: one line, exit 1, nothing written or removed', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const root = tempDir('yumda-bad-');
    const d = path.join(root, 'project');
    mkdirSync(path.join(d, 'src'), { recursive: true });
    mkdirSync(path.join(root, 'sibling'));
    writeFileSync(path.join(root, 'sibling', 'precious.txt'), 'keep me');
    writeFileSync(path.join(d, 'src', 'main.c'), 'int main(void) { return 0; }\n');
    writeFileSync(path.join(d, 'yumda.lock'), YUMDA_LOCK);
    for (const [f, text] of Object.entries(c.files ?? {})) writeFileSync(path.join(d, f), text);
    const before = snapshot(root);
    const r = await runYumda(c.args(d), { cwd: d, env: { CI: 'true' } });
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('yumda:') || /^\s+at /.test(l) || l.includes('internal error'));
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^yumda: error: /);
    expect(lines[0]).toMatch(c.error);
    expect(r.code).toBe(1);
    expect(snapshot(root)).toEqual(before);
  });
});

describe('many unknown packages (issue 19, item 14)', () => {
  it('10,000 names apt does not know: one error line with the count and the first few, and no line per name', async () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `zz-nopkg${i + 1}`);
    const d = tempDir();
    const r = await runYumda(['install', ...names, '--target', 'debian12', '--out', path.join(d, 'x.zip')], { cwd: d, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines.length, r.stderr.slice(0, 2000)).toBeLessThan(15);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(400);
    // (and, when the repository metadata came from the cache, that --refresh fetches it anew)
    expect(lines.at(-1)).toMatch(
      /^yumda: error: 10000 of the requested packages were not found in the debian12 repositories: 'zz-nopkg1', 'zz-nopkg2', 'zz-nopkg3', 'zz-nopkg4', 'zz-nopkg5' and 9995 more($|; the repository metadata came from the cache)/,
    );
    expect(readdirSync(d)).toEqual([]);
  });
});

describe('a package not found gets suggestions (issue 22)', () => {
  it("install jqq --json: exit 1, {error} on stdout, and jq suggested on stderr; names from the other family's and a wrong case are told", async () => {
    const d = tempDir();
    const r = await runYumda(['install', 'jqq', '--target', 'debian12', '--json', '--out', path.join(d, 'x.zip')], { cwd: d, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { error: string; suggestions: Record<string, string[]> };
    expect(doc.error).toMatch(/^package 'jqq' was not found in the debian12 repositories \(did you mean jq\b.*\?\)$/);
    expect(doc.suggestions.jqq![0]).toBe('jq');
    const line = r.stderr.trim().split('\n').at(-1)!;
    expect(line).toMatch(/^yumda: error: package 'jqq' was not found in the debian12 repositories \(did you mean jq\b/);
    expect(readdirSync(d)).toEqual([]);

    // refused by the name grammar before any build container: the Debian name is told
    const rpmName = await runYumda(['install', 'ImageMagick', '--target', 'debian12', '--out', path.join(d, 'x.zip')], { cwd: d });
    expect(rpmName.code).toBe(1);
    expect(rpmName.stderr.trim()).toMatch(/^yumda: error: 'ImageMagick': 'ImageMagick' is not a Debian package name .*; Debian calls it imagemagick$/);
  });
});
