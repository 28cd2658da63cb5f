import type { SelfContainedManifest } from './layer-manifest.js';

/** The report lines of a self-contained layer (`--from`), as `install` and `inspect` print them. */
export function selfContainedLines(s: SelfContainedManifest, runtimeId: string): string[] {
  const c = s.cLibrary;
  const u = s.inProcess;
  return [
    `self-contained: carries the C library of ${s.from} (${c.package} ${c.version}) and its loader; ` +
      `its programs start through ${s.interpreter} and find their libraries through their RPATH (${s.libraryDirs.join(':')}), so they need nothing of the runtime but the kernel; ` +
      `its libraries are off Lambda's LD_LIBRARY_PATH, so the runtime's own programs never load them`,
    u.usable
      ? `in-process use: the layer's libraries need ${u.needs ? `at most ${u.needs}` : 'no versioned C library'}, which the ${runtimeId} runtime has: code may load them from ${s.libraryDirs[0]} by path`
      : `in-process use: the layer's libraries need ${u.needs}, newer than the ${runtimeId} runtime's ${u.runtimeHas ?? 'C library'}: code that loads them in-process (a Node addon, Python ctypes) runs on the runtime's C library and fails there; only the layer's programs can be used`,
  ];
}
