import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeLayerZip } from '../../src/emit/zip.js';
import { file, treeOf } from '../../src/tree/types.js';
import { cliPath, repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 22: commands that do not talk to AWS do not load the AWS SDK: it doubled the start-up
 * time of `--version` (as dockerode, with its gRPC, protobufjs and ssh2, did before yumda spoke
 * the Engine API itself; those are named here so that they do not come back, not even for a
 * command that reaches an engine). A preloaded hook (helpers/module-log.mjs) lists every module
 * the process loaded.
 */
const HEAVY = /node_modules\/(@aws-sdk|@smithy|@grpc|protobufjs|dockerode|docker-modem|ssh2)\//;
const hook = path.join(repoRoot, 'test/helpers/module-log.mjs');

async function modulesLoadedBy(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; modules: string[] }> {
  const log = path.join(tempDir('yumda-modules-'), 'modules.txt');
  const env = { ...process.env, YUMDA_TEST_MODULE_LOG: log, DOCKER_HOST: 'unix:///nonexistent/docker.sock', ...extraEnv };
  const r = await run(process.execPath, ['--import', hook, cliPath, ...args], { cwd: repoRoot, env });
  return { code: r.code, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('start-up loads only what the command uses', () => {
  it.each([[['--version']], [['--help']], [['targets']], [['install', 'jq', '--target', 'debian12', '--dockerfile']], [['cache', 'info']]])(
    'yumda %j loads no AWS SDK, dockerode or gRPC',
    async (args) => {
      const { code, modules } = await modulesLoadedBy(args);
      expect(code).toBe(0);
      // the hook saw the CLI's own dependencies, so an empty list cannot pass for a clean one
      expect(modules.some((m) => m.includes('node_modules/commander/'))).toBe(true);
      expect(modules.filter((m) => HEAVY.test(m))).toEqual([]);
    },
  );

  it('publish does load the AWS SDK (the hook sees it when it is there)', async () => {
    // a layer publish reads and gates before it loads the SDK; the AWS endpoint then refuses the connection
    const zip = path.join(tempDir('yumda-modules-'), 'layer.zip');
    const manifest = {
      manifestVersion: 1,
      tool: { name: 'yumda', version: '0.1.0' },
      target: 'al2023',
      arch: 'x86_64',
      runtime: 'provided.al2023',
      requested: [],
      packages: [],
      generatedBytes: 0,
      env: {},
      recipes: [],
    };
    await writeLayerZip(treeOf([file('/opt/.yumda/manifest.json', JSON.stringify(manifest)), file('/opt/bin/x', 'x', 0o755)]), zip);
    const { modules } = await modulesLoadedBy(['publish', zip, '--name', 'x', '--region', 'us-east-1'], {
      AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'AKIDYUMDATEST00000001',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_MAX_ATTEMPTS: '1',
      AWS_CONFIG_FILE: '/nonexistent/yumda-test-aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/yumda-test-aws-credentials',
    });
    expect(modules.some((m) => m.includes('node_modules/@aws-sdk/client-lambda/'))).toBe(true);
  });
});
