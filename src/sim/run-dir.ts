// Moved to src/report/run-dir.ts (the run directory is the report layer's file format).
export { RunDirectory } from '../report/run-dir.js';
