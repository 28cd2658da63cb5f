import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './tmp.js';
import { repoRoot, run } from './cli.js';
import { LAMBDA_LD_LIBRARY_PATH, LAMBDA_PATH, lambdaDockerArgs } from './lambda.js';
import { ensureNodeImage } from './node-image.js';

/** The Node runtime interface client AWS publishes for container-image functions (npm aws-lambda-ric). */
export const RIC_VERSION = '4.0.2';
/** Where the image has it, as Lambda's Node runtimes keep theirs under /var/runtime. */
export const RIC_ENTRY = '/var/runtime/node_modules/aws-lambda-ric/index.mjs';

/**
 * The Node stand-in (ensureNodeImage) plus aws-lambda-ric, whose install scripts build curl,
 * aws-lambda-cpp and a Node addon from source: the compilers and autotools are in a build stage
 * only, so the image a function runs in has none of them, as on Lambda. node-gyp would download
 * Node's headers from nodejs.org, which cannot be reached here; the headers of the very Node the
 * image runs (its install's include/node) are given instead. Lambda's user (uid 993) gets its
 * passwd entry as in images/runtime-debian12. Tagged by the digest of its inputs: built once per
 * machine (6 to 10 minutes on 2 shared cores), then reused.
 */
export async function ensureRicImage(): Promise<string> {
  const node = await ensureNodeImage();
  const headers = path.resolve(path.dirname(realpathSync(process.execPath)), '../include/node');
  if (!existsSync(path.join(headers, 'node_api.h'))) throw new Error(`no Node headers at ${headers}: aws-lambda-ric's addon cannot be built`);
  const dockerfile = [
    `FROM ${node} AS build`,
    'RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++ make cmake autoconf automake libtool python3 perl xz-utils >/dev/null',
    'COPY node-include /usr/local/include/node',
    'WORKDIR /var/runtime',
    // engines says node >= 22; on 20 it installs and runs (the e2e test would show otherwise)
    `RUN npm_config_nodedir=/usr/local npm install --no-audit --no-fund --foreground-scripts aws-lambda-ric@${RIC_VERSION} && test -f ${path.posix.dirname(RIC_ENTRY)}/rapid-client.node`,
    `FROM ${node}`,
    'COPY --from=build /var/runtime /var/runtime',
    "RUN echo 'sbx_user1051:x:993:990::/tmp:/usr/sbin/nologin' >> /etc/passwd && echo 'sbx_user1051:x:990:' >> /etc/group",
    '',
  ].join('\n');
  const ref = `yumda-test/node-ric:${createHash('sha256')
    .update(dockerfile)
    .update(readFileSync(path.join(headers, 'node_version.h')))
    .digest('hex')
    .slice(0, 12)}`;
  if ((await run('docker', ['image', 'inspect', ref])).code === 0) return ref;
  const ctx = tempDir('yumda-ric-image-');
  cpSync(headers, path.join(ctx, 'node-include'), { recursive: true });
  writeFileSync(path.join(ctx, 'Dockerfile'), dockerfile);
  const started = Date.now();
  const r = await run('docker', ['build', '-q', '--network', 'host', '-t', ref, ctx]);
  await run('rm', ['-rf', ctx]);
  if (r.code !== 0) throw new Error(`building ${ref} failed: ${r.stderr}`);
  console.log(`built ${ref} (aws-lambda-ric ${RIC_VERSION}) in ${Math.round((Date.now() - started) / 1000)} s`);
  return ref;
}

/** What the Runtime API server recorded (test/helpers/runtime-api.mjs). */
export interface RuntimeApiRecord {
  kind: 'response' | 'error' | 'initError' | 'timeout';
  requestId?: string;
  /** the posted body, parsed as JSON when it is JSON */
  body?: unknown;
  errorType?: string;
}

export interface RicInvocation {
  /** undefined when the runtime exited before posting anything */
  record?: RuntimeApiRecord;
  /** the container's exit status: 0 once the server recorded an outcome */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RicOptions {
  /** an image from ensureRicImage */
  image: string;
  /** the layer, mounted read-only at /opt */
  layerDir: string;
  /** the function's index.mjs (ESM, exporting `handler`), mounted read-only at /var/task */
  handlerSource: string;
  event: unknown;
  /** the function's configuration, e.g. { AWS_LAMBDA_EXEC_WRAPPER: '/opt/.yumda/exec-wrapper' } */
  env?: Record<string, string>;
  /** /tmp's size in MB (the function's ephemeral storage); Lambda's default is 512 */
  tmpMb?: number;
  /** the Runtime API gives up after this long (the function's timeout) */
  timeoutMs?: number;
}

/**
 * Lambda's init and one invocation, in one container run as Lambda runs a function (read-only
 * root, /tmp a sized tmpfs, uid 993, no network but loopback, only the variables Lambda sets):
 * the Runtime API server starts on 127.0.0.1:9001, then the runtime is started as Lambda starts a
 * Node runtime, the exec wrapper (when the configuration names one) in front of the interpreter
 * and its arguments, from /var/task. The harness's own files (server, event, record) live in a
 * directory at /var/yumda-test-api, outside the function's view of /tmp.
 */
export async function invokeUnderRic(opts: RicOptions): Promise<RicInvocation> {
  const task = tempDir('yumda-ric-task-');
  const api = tempDir('yumda-ric-api-');
  writeFileSync(path.join(task, 'index.mjs'), opts.handlerSource);
  copyFileSync(path.join(repoRoot, 'test/helpers/runtime-api.mjs'), path.join(api, 'runtime-api.mjs'));
  writeFileSync(path.join(api, 'event.json'), JSON.stringify(opts.event));
  chmodSync(task, 0o755);
  // the server (uid 993) writes its record here
  chmodSync(api, 0o777);
  const env: Record<string, string> = {
    PATH: LAMBDA_PATH,
    LD_LIBRARY_PATH: LAMBDA_LD_LIBRARY_PATH,
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    _HANDLER: 'index.handler',
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
    AWS_LAMBDA_FUNCTION_NAME: 'yumda-test',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/yumda-test',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/30/[$LATEST]0123456789abcdef0123456789abcdef',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    NODE_PATH: '/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task',
    ...(opts.timeoutMs ? { YUMDA_TEST_RUNTIME_API_TIMEOUT_MS: String(opts.timeoutMs) } : {}),
    ...opts.env,
  };
  const mounts = ['-v', `${opts.layerDir}:/opt:ro`, '-v', `${task}:/var/task:ro`, '-v', `${api}:/var/yumda-test-api`, '-w', '/var/task'];
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const r = await run('docker', lambdaDockerArgs(opts.image, mounts, vars, harnessScript, undefined, opts.tmpMb, '/bin/bash'));
  const recordFile = path.join(api, 'record.json');
  const record = existsSync(recordFile) ? (JSON.parse(readFileSync(recordFile, 'utf8')) as RuntimeApiRecord) : undefined;
  await run('rm', ['-rf', task, api]);
  return { record, ...r };
}

// Lambda's init, in the container: the API first, then `[$AWS_LAMBDA_EXEC_WRAPPER] node <flags>
// <runtime>` as Lambda runs a managed Node runtime (it hands a wrapper the interpreter and its
// arguments). Ends when the server has recorded an outcome (it has then killed the runtime), or
// when the runtime exits first, which is a failure the status and stderr say.
const harnessScript = `
set -u
api=/var/yumda-test-api
node "$api/runtime-api.mjs" "$api" & srv=$!
for _ in $(seq 1 200); do [ -e "$api/listening" ] && break; sleep 0.05; done
[ -e "$api/listening" ] || { echo "yumda-test: the Runtime API did not start" >&2; exit 97; }
\${AWS_LAMBDA_EXEC_WRAPPER:-} /usr/local/bin/node --expose-gc --max-http-header-size 81920 ${RIC_ENTRY} & rt=$!
# the runtime keeps the container's stderr; bash's own note that the server killed it does not
exec 3>&2 2>/dev/null
wait -n "$srv" "$rt"
if [ -e "$api/record.json" ]; then wait "$srv"; exit 0; fi
echo "yumda-test: the runtime exited before posting a result" >&3
kill "$srv"; exit 98
`;
