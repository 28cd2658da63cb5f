// A Lambda Runtime API (2018-06-01) for one invocation, on 127.0.0.1:9001 inside the test
// container, as Lambda's init serves it to a runtime: it hands out one event on
// /runtime/invocation/next, records what the runtime posts back (the response, the invocation's
// error, or an init error), then ends the runtime as Lambda ends an execution environment
// (SIGKILL to every other process it may signal) and exits. Used by test/helpers/ric.ts.
//
// Usage: node runtime-api.mjs <dir>. <dir> holds event.json; the server writes <dir>/listening
// once it accepts connections and <dir>/record.json with the outcome:
//   { kind: 'response' | 'error' | 'initError' | 'timeout', requestId?, body?, errorType? }
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const dir = process.argv[2];
const event = readFileSync(path.join(dir, 'event.json'));
const timeoutMs = Number(process.env.YUMDA_TEST_RUNTIME_API_TIMEOUT_MS || 120000);
const requestId = '8f507cfc-2d6c-4f4a-9c6e-5b2d0a1e7c11';
const functionArn = `arn:aws:lambda:us-east-1:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME || 'yumda-test'}`;
const base = '/2018-06-01/runtime';
let handedOut = false;

function finish(record) {
  // written whole, then renamed, so the harness never reads half a record
  writeFileSync(path.join(dir, 'record.json.part'), JSON.stringify(record));
  renameSync(path.join(dir, 'record.json.part'), path.join(dir, 'record.json'));
  // Lambda does not let a runtime run on after the environment is done with: end it (and any
  // child it spawned) before exiting, so the harness's shell sees the server's exit last.
  try {
    process.kill(-1, 'SIGKILL');
  } catch {}
  process.exit(0);
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function parse(body) {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

const server = http.createServer(async (req, res) => {
  const url = req.url ?? '';
  if (req.method === 'GET' && url === `${base}/invocation/next`) {
    // a second `next` waits, as it does on Lambda between invocations
    if (handedOut) return;
    handedOut = true;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': requestId,
      'Lambda-Runtime-Deadline-Ms': String(Date.now() + timeoutMs),
      'Lambda-Runtime-Invoked-Function-Arn': functionArn,
      'Lambda-Runtime-Trace-Id': 'Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1',
    });
    res.end(event);
    return;
  }
  const m = /^\/2018-06-01\/runtime\/(?:invocation\/([^/]+)\/(response|error)|init\/(error))$/.exec(url);
  if (req.method === 'POST' && m) {
    const body = parse(await readBody(req));
    const errorType = req.headers['lambda-runtime-function-error-type'];
    res.writeHead(202, { 'Content-Type': 'application/json' });
    res.end('{"status":"OK"}', () => {
      if (m[3]) finish({ kind: 'initError', body, errorType });
      else finish({ kind: m[2] === 'response' ? 'response' : 'error', requestId: m[1], body, errorType });
    });
    return;
  }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ errorMessage: `not a Runtime API path: ${req.method} ${url}` }));
});

setTimeout(() => finish({ kind: 'timeout' }), timeoutMs).unref();
server.listen(9001, '127.0.0.1', () => writeFileSync(path.join(dir, 'listening'), ''));
