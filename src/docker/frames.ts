import type { Readable, Writable } from 'node:stream';

/** One frame of the engine's multiplexed stream: 1 is stdout, 2 stderr (0, stdin, is taken as stdout). */
export interface Frame {
  stream: 1 | 2;
  data: Buffer;
}

const HEADER = 8;

/**
 * Splits the stream an attach or exec answers with (no TTY) into its frames. Each frame is an
 * 8-byte header (stream type, three zero bytes, the payload's length as a big-endian uint32) and
 * the payload; chunks of the connection cut frames and headers anywhere, so what is left of a
 * chunk waits for the next one.
 */
export class FrameDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: Frame[] = [];
    let at = 0;
    while (this.pending.length - at >= HEADER) {
      const size = this.pending.readUInt32BE(at + 4);
      if (this.pending.length - at - HEADER < size) break;
      const data = this.pending.subarray(at + HEADER, at + HEADER + size);
      if (size > 0) frames.push({ stream: this.pending[at] === 2 ? 2 : 1, data });
      at += HEADER + size;
    }
    this.pending = this.pending.subarray(at);
    return frames;
  }

  /** Bytes of a frame the stream ended in the middle of. */
  get leftover(): number {
    return this.pending.length;
  }
}

/** Writes the frames of `stream` to `stdout` and `stderr` as they arrive (they are not ended here). */
export function demuxStream(stream: Readable, stdout: Writable, stderr: Writable): void {
  const demuxer = new FrameDemuxer();
  stream.on('data', (chunk: Buffer) => {
    for (const f of demuxer.push(chunk)) (f.stream === 2 ? stderr : stdout).write(f.data);
  });
}
