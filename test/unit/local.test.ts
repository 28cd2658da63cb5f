import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerfileSnippet, stageName } from '../../src/emit/dockerfile.js';
import { parseArch } from '../../src/registry/arch.js';
import { loadTarget } from '../../src/registry/load.js';
import { checkLocalMachine, LocalRunner, osRelease } from '../../src/runner/local.js';
import { extractTar, packageRoute } from '../../src/stage/extract.js';
import { ContentStore } from '../../src/cache/content-store.js';
import { tempDir } from '../helpers/tmp.js';
import { run, runYumda } from '../helpers/cli.js';

const runShell = (args: string[]) => run('sh', args);

const debian12 = loadTarget('debian12');

describe('local mode (the package manager on this machine)', () => {
  it('reads /etc/os-release and refuses another distribution in one line', () => {
    expect(osRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n')).toEqual({ id: 'debian', versionId: '12' });
    expect(() => checkLocalMachine(debian12, 'ID=debian\nVERSION_ID="12"\n')).not.toThrow();
    expect(() => checkLocalMachine(debian12, 'ID=ubuntu\nVERSION_ID="22.04"\n')).toThrow(
      '--local runs apt on this machine, which must be debian 12 for target debian12; this machine is ubuntu 22.04',
    );
    expect(() => checkLocalMachine(debian12, undefined)).toThrow(/of unknown distribution/);
  });

  it('runs commands and moves trees in and out as tar streams shaped like the Docker archive API', async () => {
    const r = new LocalRunner();
    const res = await r.exec(['sh', '-c', 'echo "out $X"; echo err >&2; printf tail; exit 3'], { env: { X: 'y' } });
    expect(res).toEqual({ exitCode: 3, stdout: 'out y\ntail', stderr: 'err' });

    const src = tempDir();
    mkdirSync(path.join(src, 'out/pkgs/tool/usr/bin'), { recursive: true });
    writeFileSync(path.join(src, 'out/pkgs/tool/usr/bin/tool'), 'tool', { mode: 0o755 });
    symlinkSync('tool', path.join(src, 'out/pkgs/tool/usr/bin/t'));
    const store = new ContentStore(path.join(tempDir(), 'store'));
    const { trees } = await extractTar(await r.getArchive(path.join(src, 'out')), store, packageRoute('out'));
    const tree = trees.get('tool')!;
    expect(tree.get('/usr/bin/tool')).toMatchObject({ kind: 'file', mode: 0o755, size: 4 });
    expect(tree.get('/usr/bin/t')).toEqual({ kind: 'symlink', path: '/usr/bin/t', target: 'tool' });

    const dest = tempDir();
    await r.putArchive(path.join(dest, 'into'), await r.getArchive(path.join(src, 'out')));
    expect(readFileSync(path.join(dest, 'into/out/pkgs/tool/usr/bin/tool'), 'utf8')).toBe('tool');
  });
});

describe('install --dockerfile', () => {
  it('a snippet with a Node stage that runs yumda --local and a scratch stage holding /opt; arguments quoted', () => {
    const text = dockerfileSnippet({
      target: debian12,
      arch: parseArch('arm64'),
      packages: [{ name: 'poppler-utils' }, { name: 'libfoo', version: '1:2.3~rc1' }],
      flags: ['--repo', 'http://example.org/debian bookworm main', '--keep-docs'],
      toolVersion: '9.9.9',
    });
    expect(text).toContain('ARG YUMDA_NODE_IMAGE=node:22-bookworm-slim\nFROM --platform=linux/arm64 ${YUMDA_NODE_IMAGE} AS yumda-poppler-utils-build\n');
    expect(text).toContain('ARG YUMDA_PACKAGE=yumda@9.9.9\n');
    expect(text).toContain(
      " && yumda install poppler-utils 'libfoo=1:2.3~rc1' --target debian12 --arch arm64 --repo 'http://example.org/debian bookworm main' --keep-docs --local --disposable --out-dir /yumda-layer\n",
    );
    expect(text).toContain('FROM scratch AS yumda-poppler-utils\nCOPY --from=yumda-poppler-utils-build /yumda-layer /opt\n');
    expect(text).toContain('#   COPY --from=yumda-poppler-utils /opt /opt\n');
    expect(stageName([{ name: 'libstdc++6' }])).toBe('yumda-libstdc--6');
  });

  it.each([
    ['debian12', 'node:22-bookworm-slim', false],
    ['debian13', 'node:24-trixie-slim', false],
    ['al2023', 'public.ecr.aws/amazonlinux/amazonlinux:2023', true],
  ])('%s: a stage FROM %s whose RUN line is one shell command (setup with dnf: %s)', async (id, image, setup) => {
    const text = dockerfileSnippet({ target: loadTarget(id), arch: parseArch('x86_64'), packages: [{ name: 'jq' }], flags: [], toolVersion: '9.9.9' });
    expect(text).toContain(`ARG YUMDA_NODE_IMAGE=${image}\n`);
    // the RUN instruction with its continuation lines, as the shell in the stage gets it
    const run = /^RUN ((?:.*\\\n)*.*)$/m.exec(text)![1]!.replace(/ *\\\n */g, ' ');
    const steps = run.split(' && ');
    expect(steps.at(-1)).toBe(`yumda install jq --target ${id} --arch x86_64 --local --disposable --out-dir /yumda-layer`);
    expect(steps.at(-2)).toBe('npm install --global --omit=dev --ignore-scripts --no-audit --no-fund "$YUMDA_PACKAGE"');
    // Amazon Linux has no official Node.js image: Node.js 22 (AL2023's node-22, npm-22) and cpio come from dnf first
    expect(steps[0]!.startsWith('dnf install -y --setopt=install_weak_deps=False nodejs22 nodejs22-npm cpio')).toBe(setup);
    const syntax = await runShell(['-n', '-c', run]);
    expect(syntax.code, syntax.stderr).toBe(0);
  });

  it('a target with no image of its distribution with Node.js says what to do instead, in one line', async () => {
    const r = await runYumda(['install', 'git', '--target', 'al2', '--dockerfile'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^yumda: error: --dockerfile is not available for target al2: no image of its distribution with Node.js is known; build the layer here with a build container/,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/registry\/targets/);
  });

  it('is printed without a Docker engine; refuses --recipes and output flags', async () => {
    const noEngine = { DOCKER_HOST: 'unix:///nonexistent.sock' };
    const ok = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--dockerfile', '--yumda-package', 'https://example.org/yumda.tgz'], { env: noEngine });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ARG YUMDA_PACKAGE=https://example.org/yumda.tgz\n');
    const bad = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--dockerfile', '--recipes', '/tmp'], { env: noEngine });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^yumda: error: --recipes names directories on this machine, which a docker build stage cannot see/);
    const out = await runYumda(['install', 'poppler-utils', '--target', 'debian12', '--dockerfile', '--out', 'x.zip'], { env: noEngine, cwd: tempDir() });
    expect(out.stderr.trim()).toBe('yumda: error: --dockerfile prints a Dockerfile snippet and builds nothing: it takes no --out, --out-dir, --verify or --local');
  });

  it('--disposable is only for --local: it is what lets the maintainer scripts install packages on this machine', async () => {
    const r = await runYumda(['install', 'jq', '--target', 'debian12', '--disposable', '--dry-run'], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' }, cwd: tempDir() });
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('yumda: error: --disposable says the machine of a --local build may have packages installed on it: it takes --local');
  });
});
