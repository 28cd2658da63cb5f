// Preloaded (`node --import`) into a yumda process by the start-up tests: when the process exits it
// writes, one per line to YUMDA_TEST_MODULE_LOG, every module it loaded. ES modules are seen by a
// resolve hook (on the loader's thread, hence the appends); CommonJS ones, which the hook does not
// see when a CommonJS module requires them (dockerode requiring @grpc/grpc-js), by require's cache.
import fs from 'node:fs';
import { createRequire, register } from 'node:module';

const log = process.env.YUMDA_TEST_MODULE_LOG;
if (log) {
  const hook = `import fs from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  fs.appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const cache = createRequire(import.meta.url).cache;
  process.on('exit', () =>
    fs.appendFileSync(
      log,
      Object.keys(cache)
        .map((f) => `${f}\n`)
        .join(''),
    ),
  );
}
