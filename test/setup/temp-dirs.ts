import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/tmp.js';

// Registered for every test file: its temporary directories go when its last test has run.
afterAll(removeTempDirs);
