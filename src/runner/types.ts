import type { Readable } from 'node:stream';
import type { ExecOptions, ExecResult } from '../docker/container.js';

/**
 * Where the package manager's steps run: a build container (WorkContainer, the default) or this
 * machine itself (LocalRunner, for a Dockerfile stage where no Docker engine is at hand). The
 * backends and the pipeline only ever run commands and move tar streams in and out.
 */
export interface Runner {
  exec(cmd: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** Unpacks a tar archive into `path`. */
  putArchive(path: string, tarball: Buffer | Readable): Promise<void>;
  /** The tree at `path` as a tar stream whose entries start with its base name (as Docker's archive API gives it). */
  getArchive(path: string): Promise<Readable>;
}
