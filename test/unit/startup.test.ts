import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot, run } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 22: commands that talk to neither AWS nor a Docker engine load neither the AWS SDK nor
 * dockerode (with its gRPC, protobufjs and ssh2): they doubled the start-up time of `--version`.
 * A preloaded hook (helpers/module-log.mjs) lists every module the process loaded.
 */
const HEAVY = /node_modules\/(@aws-sdk|@smithy|@grpc|protobufjs|dockerode|docker-modem|ssh2)\//;
const hook = path.join(repoRoot, 'test/helpers/module-log.mjs');

async function modulesLoadedBy(args: string[]): Promise<{ code: number; modules: string[] }> {
  const log = path.join(tempDir('yumda-modules-'), 'modules.txt');
  const env = { ...process.env, YUMDA_TEST_MODULE_LOG: log, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
  const r = await run(process.execPath, ['--import', hook, cliPath, ...args], { cwd: repoRoot, env });
  return { code: r.code, modules: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

describe('start-up loads only what the command uses', () => {
  it.each([[['--version']], [['--help']], [['targets']], [['install', 'jq', '--target', 'debian12', '--dockerfile']]])(
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
    const { modules } = await modulesLoadedBy(['publish', '/nonexistent/layer.zip', '--name', 'x', '--region', 'us-east-1']);
    expect(modules.some((m) => m.includes('node_modules/@aws-sdk/client-lambda/'))).toBe(true);
  });
});
