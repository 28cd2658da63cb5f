import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type BadInputCase, expectRefused } from '../helpers/bad-input.js';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

// the cases the engine answers (a network it has, a build container's apt); the ones refused before
// any engine is reached are in test/unit/bad-input.test.ts
const cases: BadInputCase[] = [
  {
    name: '--network naming no network',
    args: () => ['install', 'jq', '--target', 'debian12', '--out', 'x.zip', '--network', 'bogusnet'],
    error: /the Docker engine has no network 'bogusnet'/,
  },
  {
    // apt's flood of "Failed to fetch" lines becomes one, with what to check (issue 10, point 14)
    name: 'a build container without network',
    args: () => ['install', 'jq', '--target', 'debian12', '--out', 'x.zip', '--network', 'none', '--refresh'],
    error:
      /cannot read the debian12 package repositories: .*deb\.debian\.org.*: http:\/\/\S+ \(and \d+ more\); repositories: .*check the build container's network \(--network or YUMDA_DOCKER_NETWORK/,
  },
];

describe('bad input: one line, exit 1, nothing written or removed', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_, c) => expectRefused(c));
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
  // (a name of the other family's grammar, refused before any build container, is in test/unit/bad-input.test.ts)
  it('install jqq --json: exit 1, {error} on stdout, and jq suggested on stderr', async () => {
    const d = tempDir();
    const r = await runYumda(['install', 'jqq', '--target', 'debian12', '--json', '--out', path.join(d, 'x.zip')], { cwd: d, env: { CI: 'true' } });
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { error: string; suggestions: Record<string, string[]> };
    expect(doc.error).toMatch(/^package 'jqq' was not found in the debian12 repositories \(did you mean jq\b.*\?\)$/);
    expect(doc.suggestions.jqq![0]).toBe('jq');
    const line = r.stderr.trim().split('\n').at(-1)!;
    expect(line).toMatch(/^yumda: error: package 'jqq' was not found in the debian12 repositories \(did you mean jq\b/);
    expect(readdirSync(d)).toEqual([]);
  });
});
