import { formatBytes } from './format.js';

/**
 * Progress of a long step (downloading packages, unpacking them, compressing a packed tree): done
 * of total, bytes and rate, and the time left once the rate means something. Pure: the caller
 * passes the clock, the events decide how often a line is shown (a status line on a terminal,
 * a plain line now and then in CI).
 */
export interface ProgressState {
  /** `downloading`, `unpacking`, `compressing`. */
  what: string;
  /** What is counted (`packages`); absent when only bytes are. */
  unit?: string;
  done?: number;
  total?: number;
  bytesDone: number;
  bytesTotal: number;
  elapsedMs: number;
}

export function progressLine(p: ProgressState): string {
  const parts: string[] = [];
  if (p.unit !== undefined && p.total !== undefined) parts.push(`${p.done ?? 0}/${p.total} ${p.unit}`);
  const bytesTotal = Math.max(p.bytesTotal, p.bytesDone);
  if (bytesTotal > 0) {
    const pct = Math.min(100, Math.floor((p.bytesDone / bytesTotal) * 100));
    parts.push(`${formatBytes(p.bytesDone)} of ${formatBytes(bytesTotal)} (${pct}%)`);
  }
  const seconds = p.elapsedMs / 1000;
  // under a second or a few bytes, a rate is noise
  if (seconds >= 1 && p.bytesDone > 0) {
    const rate = p.bytesDone / seconds;
    parts.push(`${formatBytes(Math.round(rate))}/s`);
    const left = (bytesTotal - p.bytesDone) / rate;
    if (left >= 1 && p.bytesDone < bytesTotal) parts.push(`about ${formatDuration(left)} left`);
  }
  return `${p.what}: ${parts.join(', ')}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}

/** Counts progress and hands each new state to `emit`, with `final` set for the last. */
export class ProgressMeter {
  private done = 0;
  private bytes = 0;
  private readonly started: number;

  constructor(
    private readonly spec: { what: string; unit?: string; total?: number; bytesTotal: number },
    private readonly emit: (state: ProgressState, final: boolean) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  /** One more item (of `bytes`), or only bytes. */
  add(items: number, bytes: number): void {
    this.done += items;
    this.bytes += bytes;
    this.emit(this.state(), false);
  }

  /** Bytes done so far, as a tool reports a running total. */
  setBytes(bytes: number): void {
    this.bytes = bytes;
    this.emit(this.state(), false);
  }

  finish(): void {
    this.emit(this.state(), true);
  }

  state(): ProgressState {
    return {
      what: this.spec.what,
      ...(this.spec.unit !== undefined ? { unit: this.spec.unit, done: this.done, total: this.spec.total ?? 0 } : {}),
      bytesDone: this.bytes,
      bytesTotal: this.spec.bytesTotal,
      elapsedMs: this.now() - this.started,
    };
  }
}
