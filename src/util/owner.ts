import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Who made a container, volume or temporary file: a process on a machine. Another run can then
 * tell what a killed run (kill -9, a crash, a lost CI runner) left behind from what a live run is
 * using: a thing is stale only when its owner ran on this machine (same host name, same boot) and
 * that process is gone. The process's start time tells a reused pid from the owner.
 */
export interface Owner {
  pid: number;
  /** Host name and boot id: pids are only comparable within one boot of one machine. */
  host: string;
  /** The process's start time (clock ticks since boot, from /proc), or '' where unknown. */
  start: string;
}

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * A running process's start time, '' when it runs but the start time cannot be read (no /proc),
 * undefined when no such process runs.
 */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return processAlive(pid) ? '' : undefined;
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by another user
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let self: Owner | undefined;

export function currentOwner(): Owner {
  self ??= { pid: process.pid, host: `${os.hostname()}/${bootId()}`, start: processStart(process.pid) ?? '' };
  return self;
}

/**
 * Whether what `owner` made may be removed by `here`: it was made on this machine since its last
 * boot, and its process has ended (or the pid now belongs to a process started at another time).
 */
export function ownerGone(owner: Owner, here: Owner = currentOwner(), startOf: (pid: number) => string | undefined = processStart): boolean {
  if (owner.host !== here.host || owner.pid === here.pid) return false;
  const start = startOf(owner.pid);
  if (start === undefined) return true;
  return owner.start !== '' && start !== '' && start !== owner.start;
}

const LABEL = { pid: 'org.yumda.pid', host: 'org.yumda.host', start: 'org.yumda.start' } as const;

/** The owner as labels of a container or volume. */
export function ownerLabels(o: Owner = currentOwner()): Record<string, string> {
  return { [LABEL.pid]: String(o.pid), [LABEL.host]: o.host, [LABEL.start]: o.start };
}

/** The owner recorded in labels, if they record one. */
export function ownerOfLabels(labels: Record<string, string> | undefined): Owner | undefined {
  const pid = Number(labels?.[LABEL.pid]);
  const host = labels?.[LABEL.host];
  if (!Number.isInteger(pid) || pid <= 0 || host === undefined) return undefined;
  return { pid, host, start: labels?.[LABEL.start] ?? '' };
}
