import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptShims } from '../../src/backends/apt/stage.js';
import { alternativesRecorder, SHIM_DIR, STAGE_META } from '../../src/stage/shims.js';
import { renderTemplate } from '../../src/util/template.js';
import { repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The shims a maintainer script finds on its PATH at staging, run as it runs them: each records
 * the call into `<package>.<command>` and changes nothing. Rendered here with a temporary
 * directory where the staging has STAGE_META.
 */
async function callShim(template: string, args: string[]): Promise<{ meta: string; code: number }> {
  const meta = tempDir();
  const shim = path.join(meta, 'shim');
  writeFileSync(shim, renderTemplate(readFileSync(path.join(repoRoot, template), 'utf8'), { META: meta }), { mode: 0o755 });
  const r = await run('sh', [shim, ...args], { env: { PATH: process.env.PATH, YUMDA_PACKAGE: 'fontconfig' } });
  return { meta, code: r.code };
}

describe('the staging shims', () => {
  it('update-alternatives: records the call as its words, for relocate/alternatives.ts', async () => {
    const { meta, code } = await callShim('src/stage/shims/alternatives.sh', ['--install', '/usr/bin/fc-x', 'fc-x', '/usr/bin/fc-x.real', '10']);
    expect(code).toBe(0);
    expect(readFileSync(path.join(meta, 'fontconfig.alternatives'), 'utf8')).toBe('--install /usr/bin/fc-x fc-x /usr/bin/fc-x.real 10\n');
  });

  it('ucf: records SOURCE DESTINATION, skipping options and their values', async () => {
    const { meta, code } = await callShim('src/backends/apt/shims/ucf.sh', ['--three-way', '/usr/lib/x/main.xcd', '/etc/x/main.xcd', '--state-dir', '/var/lib/x']);
    expect(code).toBe(0);
    expect(readFileSync(path.join(meta, 'fontconfig.ucf'), 'utf8')).toBe('/usr/lib/x/main.xcd /etc/x/main.xcd\n');
  });

  it('ucf: records nothing for a call without a source', async () => {
    const { meta, code } = await callShim('src/backends/apt/shims/ucf.sh', ['--purge', '/etc/x/main.xcd']);
    expect(code).toBe(0);
    expect(() => readFileSync(path.join(meta, 'fontconfig.ucf'))).toThrow(/ENOENT/);
  });

  it('each backend puts its shims where its staging script puts them first on PATH', () => {
    expect([...aptShims().keys()]).toEqual([`${SHIM_DIR}/update-alternatives`, `${SHIM_DIR}/ucf`, `${SHIM_DIR}/ucfr`]);
    expect([...alternativesRecorder(['alternatives', 'update-alternatives']).keys()]).toEqual([`${SHIM_DIR}/alternatives`, `${SHIM_DIR}/update-alternatives`]);
    // one recorder for apt and rpm, writing where staging reads
    expect(aptShims().get(`${SHIM_DIR}/update-alternatives`)).toBe(alternativesRecorder(['alternatives']).get(`${SHIM_DIR}/alternatives`));
    expect(aptShims().get(`${SHIM_DIR}/update-alternatives`)).toContain(`${STAGE_META}/"$YUMDA_PACKAGE".alternatives`);
  });
});
