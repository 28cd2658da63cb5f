// Preloaded (`node --import`) into a yumda process by the fault-injection tests: it stops the
// process at a chosen point, so a signal lands in a known pipeline step, not wherever a race
// puts it. The process blocks (synchronously: no timer, no I/O, no signal handler runs) until the
// test creates the file YUMDA_TEST_GO, after sending its signal; a queued SIGINT or SIGTERM is
// then handled at the step's first await, and SIGKILL ends the process there.
//   YUMDA_TEST_PAUSE_AT=<text>            after writing a progress line that contains <text>
//   YUMDA_TEST_PAUSE_AT=temporary-file    once an output's temporary sibling has been opened
//   YUMDA_TEST_PAUSE_AT=renamed:<name>    right after a rename onto a file named <name> (sync or not)
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import path from 'node:path';

const at = process.env.YUMDA_TEST_PAUSE_AT;
const go = process.env.YUMDA_TEST_GO;
let paused = false;

function pause(what) {
  paused = true;
  process.stderr.write(`test: paused at ${what}\n`);
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const until = Date.now() + 120_000;
  while (!fs.existsSync(go) && Date.now() < until) Atomics.wait(cell, 0, 0, 20);
}

if (at === 'temporary-file') {
  const createWriteStream = fs.createWriteStream;
  fs.createWriteStream = function (p, ...rest) {
    const s = createWriteStream.call(this, p, ...rest);
    if (!paused && /\.yumda-\d+-[0-9a-f]+\.tmp$/.test(String(p))) s.once('open', () => pause(`temporary file ${p}`));
    return s;
  };
  syncBuiltinESMExports();
} else if (at?.startsWith('renamed:')) {
  const name = at.slice('renamed:'.length);
  const hit = (dest) => !paused && path.basename(String(dest)) === name;
  const renameSync = fs.renameSync;
  fs.renameSync = function (from, to) {
    renameSync.call(this, from, to);
    if (hit(to)) pause(`renamed onto ${to}`);
  };
  const rename = fs.promises.rename;
  fs.promises.rename = async function (from, to) {
    await rename.call(this, from, to);
    if (hit(to)) pause(`renamed onto ${to}`);
  };
  syncBuiltinESMExports();
} else if (at) {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk, ...rest) => {
    const r = write(chunk, ...rest);
    if (!paused && String(chunk).includes(at)) pause(at);
    return r;
  };
}
