import type { Readable } from 'node:stream';

/** One line of the engine's JSON progress stream (build, load), with the fields yumda reads. */
export interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: unknown;
}

/** An `error` entry of a progress stream: the engine's own report that the build or load failed. */
export class ProgressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProgressError';
  }
}

/**
 * Splits JSON lines as they arrive, across chunks. A line that is not JSON is passed on as a
 * `stream` entry rather than dropped, so nothing the engine said is lost.
 */
export class JsonLines {
  private partial = '';

  push(chunk: string): ProgressEvent[] {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    return lines.flatMap(parseLine);
  }

  end(): ProgressEvent[] {
    const last = this.partial;
    this.partial = '';
    return parseLine(last);
  }
}

function parseLine(line: string): ProgressEvent[] {
  const text = line.trim();
  if (!text) return [];
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? [v as ProgressEvent] : [{ stream: text }];
  } catch {
    return [{ stream: text }];
  }
}

/**
 * Reads a progress stream to its end, handing each entry to `onEvent`. Resolves with every entry;
 * rejects with a ProgressError carrying the first `error` entry's message (after the stream ended,
 * so the entries before it are all seen), or with the connection's own error.
 */
export function followProgress(stream: Readable, onEvent?: (ev: ProgressEvent) => void): Promise<ProgressEvent[]> {
  const lines = new JsonLines();
  const all: ProgressEvent[] = [];
  let failed: string | undefined;
  const take = (events: ProgressEvent[]) => {
    for (const ev of events) {
      all.push(ev);
      if (ev.error !== undefined || ev.errorDetail?.message !== undefined) failed ??= ev.error ?? ev.errorDetail?.message ?? '';
      else onEvent?.(ev);
    }
  };
  stream.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    stream.on('data', (chunk: string) => take(lines.push(chunk)));
    stream.on('error', reject);
    stream.on('end', () => {
      take(lines.end());
      if (failed !== undefined) reject(new ProgressError(failed));
      else resolve(all);
    });
  });
}
