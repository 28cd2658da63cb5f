import { UserError } from '../util/errors.js';

/**
 * One architecture under every name it goes by. Lambda says x86_64/arm64, Debian amd64/arm64,
 * RPM x86_64/aarch64, Docker linux/amd64 and linux/arm64, ELF EM_X86_64/EM_AARCH64. This table is
 * the only place those names are mapped.
 */
export interface Arch {
  /** Lambda's name, used on the command line and in manifests. */
  readonly lambda: 'x86_64' | 'arm64';
  readonly deb: string;
  readonly rpm: string;
  readonly docker: string;
  /** The GNU triplet of Debian's multiarch library directories. */
  readonly triplet: string;
  /** e_machine of the ELF files built for it. */
  readonly elfMachine: number;
}

export const ARCHES: readonly Arch[] = [
  { lambda: 'x86_64', deb: 'amd64', rpm: 'x86_64', docker: 'linux/amd64', triplet: 'x86_64-linux-gnu', elfMachine: 62 },
  { lambda: 'arm64', deb: 'arm64', rpm: 'aarch64', docker: 'linux/arm64', triplet: 'aarch64-linux-gnu', elfMachine: 183 },
];

/** Accepts any of an architecture's names (`amd64`, `aarch64`, …) and returns the architecture. */
export function parseArch(name: string): Arch {
  const n = name.trim().toLowerCase();
  const found = ARCHES.find((a) => [a.lambda, a.deb, a.rpm, a.docker, a.triplet].includes(n));
  if (!found) {
    throw new UserError(`unknown architecture '${name}'`, {
      hint: `use one of ${ARCHES.map((a) => a.lambda).join(', ')}`,
    });
  }
  return found;
}

/** The architecture of the machine running yumda, as the default target architecture. */
export function hostArch(): Arch {
  return process.arch === 'arm64' ? parseArch('arm64') : parseArch('x86_64');
}
