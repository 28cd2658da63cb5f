import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 22's acceptance for finding packages and starting a project, against Debian 12's real
 * repositories: search lists jq first, why prints the chains (through a recommendation for what
 * the plan leaves out), and the manifest `yumda init jq` writes builds.
 */
describe('search, why and init (debian12)', () => {
  it('yumda search jq lists jq first, with its version and summary', async () => {
    const r = await runYumda(['search', 'jq', '--target', 'debian12']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^jq +1\.6-\S+ +lightweight and flexible command-line JSON processor$/);
    expect(lines.some((l) => /^libjq1 /.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^… and \d+ more \(--limit \d+ lists them all\)$/);

    const json = await runYumda(['search', 'json', 'processor', '--target', 'debian12', '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { packages: Array<{ name: string; version: string; summary: string }> };
    // every word matches the name or the summary; names that hold a word come before summary-only matches (jq among them)
    for (const p of doc.packages) expect(`${p.name} ${p.summary}`.toLowerCase()).toMatch(/json[\s\S]*processor|processor[\s\S]*json/);
    const byName = doc.packages.map((p) => /json|processor/i.test(p.name));
    expect(byName.indexOf(false)).toBeGreaterThan(0);
    expect(byName.slice(byName.indexOf(false))).not.toContain(true);
    expect(doc.packages.find((p) => p.name === 'jq')).toMatchObject({ version: expect.stringMatching(/^1\.6-/) });

    const none = await runYumda(['search', 'zzqx-no-such-thing', '--target', 'debian12']);
    expect(none.code).toBe(1);
    expect(none.stderr.trimEnd().split('\n').pop()).toBe("yumda: error: no package of the debian12 repositories has 'zzqx-no-such-thing' in its name or summary");
  });

  it('yumda why prints the dependency chain, and the recommendation a left-out package would come through', async () => {
    const jq = await runYumda(['why', 'libonig5', 'jq', '--target', 'debian12']);
    expect(jq.stderr).not.toMatch(/error/);
    expect(jq.stdout).toBe('jq → libjq1 → libonig5\n');

    const gs = await runYumda(['why', 'libgs10', 'imagemagick', '--target', 'debian12']);
    expect(gs.code).toBe(0);
    const [head, ...chains] = gs.stdout.trimEnd().split('\n');
    expect(head).toMatch(
      /^libgs10 is not in the plan of imagemagick for debian12 x86_64: it would come only through a recommended package, and yumda installs none; add ghostscript/,
    );
    expect(chains[0]).toMatch(/^imagemagick → .* \(recommends\) → ghostscript → libgs10$/);

    const runtime = await runYumda(['why', 'libc6', 'jq', '--target', 'debian12']);
    expect(runtime.code).toBe(1);
    expect(runtime.stderr.trimEnd().split('\n').pop()).toBe(
      'yumda: error: libc6 is not in the plan of jq for debian12 x86_64: the debian12 runtime has it, so the layer does not ship it',
    );
  });

  it('the manifest yumda init jq writes builds', async () => {
    const dir = tempDir('yumda-init-');
    const init = await runYumda(['init', 'jq', '--target', 'debian12'], { cwd: dir });
    expect(init.code).toBe(0);
    const build = await runYumda(['build', '--json'], { cwd: dir });
    expect(build.stderr).not.toMatch(/error/);
    expect(build.code).toBe(0);
    expect(existsSync(path.join(dir, 'dist/jq-x86_64.zip'))).toBe(true);
    expect(existsSync(path.join(dir, 'yumda.lock'))).toBe(true);
  });
});
