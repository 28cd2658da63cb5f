import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';
import { fakeAwsEnv, startFakeAws } from '../helpers/aws.js';
import { writeLayerZip } from '../../src/emit/zip.js';
import { file, treeOf } from '../helpers/tree.js';

function layerManifestFor(target: string) {
  return {
    manifestVersion: 1,
    tool: { name: 'yumda', version: '0.1.0' },
    target,
    arch: 'x86_64',
    runtime: `provided.${target}`,
    requested: ['jq'],
    packages: [{ name: 'jq', version: '1.7.1-1.amzn2023', arch: 'x86_64', sourcePackage: 'jq', requiredBy: ['jq'], files: 1, bytes: 1 }],
    generatedBytes: 0,
    env: {},
    recipes: [],
  };
}

/**
 * Issue 22: commands that do not talk to AWS do not load the AWS SDK: it doubled the start-up
 * time of `--version` (as dockerode, with its gRPC, protobufjs and ssh2, did before yumda spoke
 * the Engine API itself; those are named here so that they do not come back, not even for a
 * command that reaches an engine). A preloaded hook (helpers/module-log.mjs) lists every module
 * the process loaded.
 */
const HEAVY = /node_modules\/(@aws-sdk|@smithy|@grpc|protobufjs|dockerode|docker-modem|ssh2)\//;
const hook = path.join(repoRoot, 'test/helpers/module-log.mjs');

async function modulesLoadedBy(args: string[], extraEnv: Record<string, string | undefined> = {}): Promise<{ code: number; modules: string[] }> {
  const log = path.join(tempDir('yumda-modules-'), 'modules.txt');
  const env = { ...process.env, ...extraEnv, YUMDA_TEST_MODULE_LOG: log, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
  const r = await run(process.execPath, ['--import', hook, cliPath, ...args], { cwd: repoRoot, env });
  return { code: r.code, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('start-up loads only what the command uses', () => {
  it.each([[['--version']], [['--help']], [['targets']], [['install', 'jq', '--target', 'debian12', '--dockerfile']], [['cache', 'info']]])(
    'yumda %j loads no AWS SDK, dockerode or gRPC',
    async (args) => {
      const { code, modules } = await modulesLoadedBy(args);
      expect(code).toBe(0);
      // the hook saw the CLI itself (the bundle, or dist/src with YUMDA_TEST_CLI), so an empty list cannot pass for a clean one
      expect(modules.some((m) => m.includes(cliPath))).toBe(true);
      expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
    },
  );

  /**
   * Issue 24: the schemas' validators are compiled at build time (scripts/compile-schemas.mjs) and
   * the yaml library is loaded for a YAML manifest only: ajv and yaml took 100–250 ms of every run.
   * `targets` validates every target and runtime document, through the precompiled validators.
   */
  it.each([[['--version']], [['targets']], [['cache', 'info']]])('yumda %j loads neither ajv nor yaml', async (args) => {
    const { code, modules } = await modulesLoadedBy(args);
    expect(code).toBe(0);
    expect(modules.filter((m) => /node_modules\/(ajv|yaml)\//.test(m))).toEqual([]);
    if (args[0] === 'targets') expect(modules.some((m) => m.includes('/schema-validators/target.cjs'))).toBe(true);
  });

  /**
   * Issue 24: the bin is one bundle (scripts/bundle.mjs). Loading the ~270 files it is made of one by
   * one took 0.4 s of every command: a module of dist/src or a bundled dependency loaded again means
   * the bundle stopped serving.
   */
  it.skipIf(process.env.YUMDA_TEST_CLI)('yumda --version loads the bundle, not the modules and dependencies it was made of', async () => {
    const { code, modules } = await modulesLoadedBy(['--version']);
    expect(code).toBe(0);
    expect(modules.some((m) => m.includes('/dist/bundle/yumda.js'))).toBe(true);
    expect(modules.filter((m) => /\/dist\/src\/.*\.js$|node_modules\/(commander|semver|tar-stream|yauzl)\//.test(m))).toEqual([]);
  });

  it('publish does load the AWS SDK (the hook sees it when it is there)', async () => {
    // publish reads and gates the zip before it loads the SDK, so it needs a real layer; the
    // loopback stand-in for AWS keeps it off the network
    const creds = { accessKeyId: 'AKIDYUMDATEST00000001', secretAccessKey: 'yumda/test/secret+key/0123456789abcdefghij' };
    const aws = await startFakeAws(creds);
    try {
      const zip = path.join(tempDir('yumda-startup-'), 'layer.zip');
      const manifest = layerManifestFor('al2023');
      await writeLayerZip(treeOf([file('/opt/.yumda/manifest.json', JSON.stringify(manifest)), file('/opt/bin/payload', '#!/bin/sh\n', 0o755)]), zip);
      const { code, modules } = await modulesLoadedBy(['publish', zip, '--name', 'startup', '--region', 'us-east-1'], fakeAwsEnv(aws, creds));
      expect(code).toBe(0);
      expect(modules.some((m) => m.includes('node_modules/@aws-sdk/client-lambda/'))).toBe(true);
    } finally {
      await aws.close();
    }
  });
});
