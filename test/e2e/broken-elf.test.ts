import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAptRepo } from '../helpers/aptrepo.js';
import { runYumda } from '../helpers/cli.js';
import { serveDirectory } from '../helpers/serve.js';
import { tempDir } from '../helpers/tmp.js';
import { readZip } from '../helpers/zip.js';

/**
 * Issue 19, item 17: a package that ships empty, truncated and malformed ELF files (built here with
 * dpkg-deb, served as a flat apt repository on loopback). Relocation cannot read them and the
 * closure check cannot look inside them; the build says so for each, naming the file and what is
 * wrong, and ships them as they are (as it ships what it cannot rewrite).
 */
const servers: Array<{ close: () => Promise<void> }> = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

describe('a package with broken ELF files', () => {
  it('each is reported in one warning, and the layer is written', async () => {
    const work = tempDir();
    const truePrograms = readFileSync('/bin/true');
    await makeAptRepo(path.join(work, 'repo'), [
      {
        name: 'yumda-broken-elf',
        version: '1.0-1',
        arch: 'amd64',
        files: {
          '/usr/bin/zero': { data: '', mode: 0o755 },
          '/usr/bin/cut': { data: truePrograms.subarray(0, 2000), mode: 0o755 },
          '/usr/bin/ok': { data: truePrograms, mode: 0o755 },
          '/usr/lib/x86_64-linux-gnu/libzero.so.2': { data: '' },
          '/usr/lib/x86_64-linux-gnu/libgarbage.so.1': { data: Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(300, 0xff)]) },
        },
      },
    ]);
    const server = await serveDirectory(path.join(work, 'repo'));
    servers.push(server);
    const out = path.join(work, 'layer.zip');
    const r = await runYumda(['install', 'yumda-broken-elf', '--target', 'debian12', '--repo', `${server.url} ./`, '--out', out], { env: { CI: 'true' } });
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
    const about = (file: string) => warnings.filter((w) => w.startsWith(`warning: ${file} is `));
    expect(about('/opt/bin/zero')).toEqual([expect.stringContaining('is empty (0 bytes), where a program is expected; shipped as it is')]);
    expect(about('/opt/bin/cut')).toEqual([expect.stringMatching(/is truncated: 2000 bytes, its loadable segments end at byte \d+; shipped as it is/)]);
    expect(about('/opt/lib/libzero.so.2')).toEqual([expect.stringContaining('is empty (0 bytes), where a shared library is expected')]);
    expect(about('/opt/lib/libgarbage.so.1')).toEqual([expect.stringContaining('is a malformed ELF file (unknown ELF class 255)')]);
    expect(about('/opt/bin/ok')).toEqual([]);
    const names = (await readZip(out)).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['bin/zero', 'bin/cut', 'bin/ok', 'lib/libzero.so.2', 'lib/libgarbage.so.1']));
  });
});
