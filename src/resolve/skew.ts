/**
 * What to do when the packages need a newer version of something the Lambda runtime already has
 * (lambci/yumda issue #2: git broke this way). Pure, so every case is unit-tested.
 *
 * Shipping the newer package in the layer only helps if the process finds the layer's copy.
 * Lambda's LD_LIBRARY_PATH lists /lib64 and /usr/lib64 before /opt/lib, so a newer libfoo.so.1 in
 * /opt/lib would lose to the runtime's older /usr/lib64/libfoo.so.1; relocation gives the layer's
 * programs a DT_RPATH naming /opt/lib (searched before LD_LIBRARY_PATH), so the layer's copy
 * wins. What cannot be shipped is what must be the runtime's own (its C library and loader).
 */

export interface SkewCase {
  /** The runtime's package that is too old. */
  name: string;
  runtimeVersion: string;
  /** The version the repositories offer and the closure resolved to. */
  neededVersion: string;
  /** The capability that the runtime's version does not satisfy, and who requires it. */
  requirement: string;
  requiredBy: string;
  /** Shared-library file names (sonames) the newer package ships. */
  libraries: string[];
  /** Packages whose files must come from the runtime (the C library, its loader). */
  runtimeBound: boolean;
}

export interface SkewContext {
  runtimeId: string;
  /** File names of the shared libraries in the runtime's library directories. */
  runtimeLibraries: ReadonlySet<string>;
}

export type SkewDecision = { action: 'ship'; note: string } | { action: 'stop'; reason: string };

export function decideSkew(s: SkewCase, ctx: SkewContext): SkewDecision {
  const both = `${s.requiredBy} needs ${s.name} ${s.neededVersion} (${s.requirement}), but the ${ctx.runtimeId} runtime has ${s.name} ${s.runtimeVersion}`;
  if (s.runtimeBound) {
    return { action: 'stop', reason: `${both}, and ${s.name} cannot be shipped in a layer: its files must be the runtime's own` };
  }
  const shadowed = s.libraries.filter((l) => ctx.runtimeLibraries.has(l)).sort();
  return {
    action: 'ship',
    note: shadowed.length
      ? `${both}; the layer ships ${s.name} ${s.neededVersion}, found first through the programs' RPATH`
      : `${both}; the layer ships ${s.name} ${s.neededVersion}` + (s.libraries.length ? ` (the runtime has no ${s.libraries.join(', ')})` : ''),
  };
}
