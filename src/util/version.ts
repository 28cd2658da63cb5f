import { readFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './paths.js';

/** yumda's own version, from its package.json: recorded in every layer, lock and SBOM. */
export const toolVersion: string = (JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as { version: string }).version;
