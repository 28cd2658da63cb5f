import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runYumda } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 19, item 11e: DOCKER_HOST=ssh://… printed a Node deprecation warning (docker-modem builds
 * an `ssh:` URL Node cannot parse) before it failed. yumda now reaches an ssh engine as the docker
 * CLI does: the system's ssh runs `docker system dial-stdio` there. The test's `ssh` is a stand-in
 * on PATH that records how it was called and connects to the local engine, as the remote command
 * would; another one fails as ssh fails when the host refuses.
 */
function fakeSsh(body: string): { dir: string; log: string } {
  const dir = tempDir('yumda-fake-ssh-');
  const log = path.join(dir, 'calls.log');
  writeFileSync(path.join(dir, 'ssh'), `#!${process.execPath}\n${body}`);
  chmodSync(path.join(dir, 'ssh'), 0o755);
  return { dir, log };
}

const dialStdio = `const fs = require('node:fs');
fs.appendFileSync(process.env.FAKE_SSH_LOG, JSON.stringify(process.argv.slice(2)) + '\\n');
const s = require('node:net').connect('/var/run/docker.sock');
process.stdin.pipe(s).pipe(process.stdout);
s.on('close', () => process.exit(0));
`;
const refused = `process.stderr.write('ssh: connect to host example.invalid port 2222: Connection refused\\r\\n');
process.exit(255);
`;

describe('DOCKER_HOST=ssh://', () => {
  it('reaches the engine through the system ssh (docker system dial-stdio), with no warning', async () => {
    const ssh = fakeSsh(dialStdio);
    const r = await runYumda(['install', 'jq', '--target', 'debian12', '--dry-run', '--cache-dir', tempDir()], {
      env: { DOCKER_HOST: 'ssh://deploy@example.invalid:2222', PATH: `${ssh.dir}:${process.env.PATH}`, FAKE_SSH_LOG: ssh.log },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/Warning|deprecat/i);
    expect(r.stdout).toMatch(/^\s+jq\s+1\.6/m);
    const calls = readFileSync(ssh.log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as string[]);
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls)
      expect(c).toEqual(['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-l', 'deploy', '-p', '2222', '--', 'example.invalid', 'docker', 'system', 'dial-stdio']);
  });

  it("an ssh that cannot connect: one line with ssh's own reason", async () => {
    const ssh = fakeSsh(refused);
    const r = await runYumda(['install', 'jq', '--target', 'debian12', '--dry-run', '--cache-dir', tempDir()], {
      env: { DOCKER_HOST: 'ssh://deploy@example.invalid:2222', PATH: `${ssh.dir}:${process.env.PATH}` },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((l) => /yumda:|Warning|^\s+at /.test(l))).toEqual([
      expect.stringMatching(
        /^yumda: error: the Docker engine is not reachable at ssh:\/\/deploy@example\.invalid:2222 \(ssh: connect to host example\.invalid port 2222: Connection refused\); /,
      ),
    ]);
  });
});
