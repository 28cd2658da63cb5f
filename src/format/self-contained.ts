import type { SelfContainedManifest } from './layer-manifest.js';

/** The report line of a self-contained layer (`--from`), as `install` and `inspect` print it. */
export function selfContainedLine(s: SelfContainedManifest): string {
  const c = s.cLibrary;
  return (
    `self-contained: carries the C library of ${s.from} (${c.package} ${c.version}) and its loader; ` +
    `its programs start through ${s.interpreter} and find their libraries through their RPATH (${s.libraryDirs.join(':')}), so they need nothing of the runtime but the kernel; ` +
    `its libraries are off Lambda's LD_LIBRARY_PATH, so the runtime's own programs never load them`
  );
}
