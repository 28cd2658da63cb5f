import type { Readable } from 'node:stream';

/** What a command run by a Runner gave back. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  user?: string;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
}

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
