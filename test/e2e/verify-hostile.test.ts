import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { craftZip } from '../helpers/craftzip.js';
import { manifestOf } from '../helpers/layer.js';

/**
 * Issue 10 points 5 and 11, verify's side (it needs the Docker engine for the runtime image):
 * setuid/setgid bits make the check fail, and what the layer says is printed escaped.
 */
describe('yumda verify on a layer made elsewhere', () => {
  it('fails a setuid binary in one check line, and escapes names from the manifest', async () => {
    const work = tempDir();
    writeFileSync(
      path.join(work, 'L.zip'),
      craftZip([
        { name: '.yumda/manifest.json', data: JSON.stringify(manifestOf({ recipes: ['evil\u001b[2J\nPASS everything'] })) },
        { name: 'bin/sudo', data: '#!/bin/sh\n', mode: 0o4755 },
      ]),
    );
    const r = await runYumda(['verify', 'L.zip'], { cwd: work });
    expect(r.code, r.stderr).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PASS closure: 0 ELF files/);
    expect(lines).toContain(
      'FAIL modes: setuid/setgid/sticky: bin/sudo (-rwsr-xr-x): Lambda cannot use them (functions run unprivileged, with no_new_privs), and unpacked as root they would keep them; rebuild with yumda, which strips them',
    );
    expect(lines).toContainEqual(expect.stringMatching(/^SKIP smoke evil\\x1b\[2J\\nPASS everything: the layer was built with recipe 'evil\\x1b\[2J\\nPASS everything'/));
    expect(lines.filter((l) => l.startsWith('PASS everything'))).toEqual([]);
    expect(lines.at(-1)).toMatch(/^verification failed: 1 passed, 1 failed, 1 skipped/);
  });
});
