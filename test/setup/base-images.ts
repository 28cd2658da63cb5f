import { ensureBaseImages } from '../helpers/base-images.js';

// Registered for every end-to-end file: the amd64 base images its builds and Lambda-like runs
// start from (debian:11/12/13-slim) exist before its first test. The arm64 ones are waited for
// by what uses them (ensureRuntimeImage for arm64, the manifest test's arm64 layer).
ensureBaseImages('amd64');
