import { phaseLine, phases, type TimelineEvent } from '../../src/pipeline/phases.js';

/**
 * Prints how long a build the test made took, phase by phase, from its --json output: the long
 * end-to-end files print this for each big build, so CI's log says where the minutes went.
 */
export function logBuildPhases(label: string, json: { stats?: { durationMs: number; timeline?: TimelineEvent[] } }): void {
  const stats = json.stats;
  if (!stats?.timeline) return;
  console.log(`${label}: built in ${(stats.durationMs / 1000).toFixed(1)} s (${phaseLine(phases(stats.timeline, stats.durationMs))})`);
}
