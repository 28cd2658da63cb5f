/**
 * The rpm helper's replies checked against schema/rpm-helper-reply.schema.json on receipt. The
 * helper runs inside a build container, under whatever Python and dnf/yum the image has: a reply
 * of another shape would otherwise surface far from its cause (an `undefined` in a plan, a NaN
 * size), so it is stopped here, naming the command and the first field that is wrong.
 */
import type { ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import { projectRoot } from '../../util/paths.js';
import { describeSchemaError } from '../../util/schema.js';
import { loadAjv, precompiledValidators } from '../../util/schema-compiled.js';
import type { RpmResolution } from './plan.js';

/** The helper's commands, each with its own reply (see the helper's header). */
export const HELPER_COMMANDS = ['refresh', 'resolve', 'versions', 'provides', 'search', 'names', 'download'] as const;
export type HelperCommand = (typeof HELPER_COMMANDS)[number];

/*
 * The replies as the code reads them: one type per definition of the schema, compared with it
 * field by field (test/unit/schema-types.test.ts), and picked by the command's name
 * (`helper(c, ctx, ['names', …])` is a NamesReply), so that a call site cannot claim another shape.
 */

/** What the helper says of each repository a release package configured, by the repository's id in yumda. */
export type Releases = Record<string, { package: string; repos: string[]; gpgcheck: boolean; keys: string[] }>;

export interface RefreshReply {
  repos: Record<string, number>;
  /** Seconds since the metadata was fetched when it was fresh enough to reuse; null when fetched now. */
  cachedAgeSeconds: number | null;
  releases?: Releases;
}

export interface ResolveReply extends RpmResolution {
  pins: { applied: string[]; missing: string[] };
  releases?: Releases;
}

export interface VersionsReply {
  versions: Array<{ epoch: number; version: string; release: string; arch: string }>;
}

export interface ProvidesReply {
  packages: Array<{ name: string; evr: string; arch: string; repo: string }>;
}

export interface SearchReply {
  packages: Array<{ name: string; evr: string; arch: string; summary: string; repo: string }>;
  releases?: Releases;
}

export interface NamesReply {
  names: string[];
}

export interface DownloadReply {
  files: string[];
  releases?: Releases;
}

/** The error the helper answers with (exit 3), whatever went wrong: see its header. */
export interface HelperError {
  kind: 'repo' | 'not-found' | 'unsatisfiable' | 'download' | 'release' | 'internal';
  message: string;
  spec?: string;
  /** Every spec nothing matched (not-found). */
  specs?: string[];
  /** The release package that could not be read (release). */
  release?: string;
  /** The exception's class, when the helper's catch-all answered. */
  exception?: string;
}

export interface ErrorReply {
  error: HelperError;
}

export interface HelperReplies {
  refresh: RefreshReply;
  resolve: ResolveReply;
  versions: VersionsReply;
  provides: ProvidesReply;
  search: SearchReply;
  names: NamesReply;
  download: DownloadReply;
}

const SCHEMA_FILE = 'schema/rpm-helper-reply.schema.json';

let compiled: Map<string, ValidateFunction> | undefined;

/**
 * One validator per definition, on first use (most runs of yumda never start the helper): those
 * compiled at build time when they were made from this schema text, else compiled now.
 */
function validators(): Map<string, ValidateFunction> {
  if (compiled) return compiled;
  const text = readFileSync(path.join(projectRoot, SCHEMA_FILE), 'utf8');
  const built = precompiledValidators('rpm-helper-reply', text);
  const schema = JSON.parse(text) as { $id: string };
  let ajv: InstanceType<ReturnType<typeof loadAjv>> | undefined;
  compiled = new Map();
  for (const kind of [...HELPER_COMMANDS, 'error']) {
    let v = built?.[kind];
    if (!v) {
      if (!ajv) {
        ajv = new (loadAjv())({ allErrors: false, strict: true, allowUnionTypes: true });
        ajv.addSchema(schema);
      }
      v = ajv.getSchema(`${schema.$id}#/definitions/${kind}`);
    }
    if (!v) throw new Error(`${SCHEMA_FILE} has no definition for the helper's ${kind} reply`);
    compiled.set(kind, v);
  }
  return compiled;
}

/**
 * Returns the reply when it has the shape its command promises (an error reply, `{"error": ...}`,
 * being valid from every command); throws one line otherwise. The helper ships with yumda, so a
 * mismatch is never the user's input: a bug of yumda (helper and schema disagree) or a build
 * image whose package manager answers with other types than dnf 4 or yum 3 do.
 */
export function checkHelperReply<T>(command: string, reply: T): T {
  const isError = typeof reply === 'object' && reply !== null && 'error' in reply;
  const kind = isError ? 'error' : command;
  const v = validators().get(kind);
  if (!v) throw new Error(`no schema for the rpm helper's reply to '${command}'`);
  if (v(reply)) return reply;
  const first = v.errors?.[0];
  const label = isError ? `error reply to '${command}'` : `'${command}' reply`;
  throw new UserError(`the rpm helper's ${label} does not match ${SCHEMA_FILE}: ${first ? describeSchemaError(first) : 'invalid'}`, {
    hint: 'the helper is part of yumda (images/helpers/yumda_rpm.py), so this is a bug in yumda or a damaged build image; please report it with this message',
  });
}
