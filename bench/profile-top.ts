/**
 * The top of a V8 CPU profile (`node --cpu-prof`): self time summed per function and per module,
 * to show where a build's time goes (issue 24 asks for the top of a warm build's profile).
 *
 *   node dist/bench/profile-top.js FILE.cpuprofile [N]
 *
 * Self time is each sample's interval given to the function on top of the stack; a module is a
 * package (node_modules/<name>), a file of yumda (src/…), or node's own internals.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: Array<{ id: number; callFrame: CallFrame }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A module's short name, from a script's URL. */
function moduleOf(url: string): string {
  if (url === '') return '(native / idle / gc)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return `node_modules/${pkg[1]}`;
  const own = /\/dist\/((?:src|bench)\/.*)$/.exec(url);
  if (own) return own[1]!;
  if (url.startsWith('node:')) return 'node: internals';
  return url;
}

function top(totals: Map<string, number>, n: number, all: number): string[] {
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${k}`);
}

function main(): void {
  const [file, count] = process.argv.slice(2);
  if (!file) throw new Error('usage: profile-top.js FILE.cpuprofile [N]');
  const n = Number(count ?? 15);
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const frames = new Map(p.nodes.map((x) => [x.id, x.callFrame]));
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  let all = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const f = frames.get(p.samples[i]!)!;
    const us = p.timeDeltas[i] ?? 0;
    all += us;
    const mod = moduleOf(f.url);
    const fn = `${f.functionName || '(anonymous)'} ${mod}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }
  console.log(`${file}: ${(all / 1000).toFixed(0)} ms sampled`);
  console.log(`top ${n} functions by self time:`);
  for (const l of top(byFunction, n, all)) console.log(l);
  console.log(`top ${n} modules by self time:`);
  for (const l of top(byModule, n, all)) console.log(l);
}

main();
