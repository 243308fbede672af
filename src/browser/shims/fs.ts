// node:fs in a browser tab: there is no file system, only the files the user picks (read by the
// page). Code that reaches for a path gets one clear error instead of a bundler failure.
function unavailable(name: string): never {
  throw new Error(`${name}: a browser tab has no file system; pick the file in the page instead`);
}

export const existsSync = (): boolean => false;
export const readFileSync = (): never => unavailable('readFileSync');
export const writeFileSync = (): never => unavailable('writeFileSync');
export const readdirSync = (): never => unavailable('readdirSync');
export const statSync = (): never => unavailable('statSync');
export const mkdirSync = (): never => unavailable('mkdirSync');
export const renameSync = (): never => unavailable('renameSync');
export const rmSync = (): never => unavailable('rmSync');
export const openSync = (): never => unavailable('openSync');
export const closeSync = (): never => unavailable('closeSync');
export const writeSync = (): never => unavailable('writeSync');
export const fsyncSync = (): never => unavailable('fsyncSync');
export const appendFileSync = (): never => unavailable('appendFileSync');
export const unlinkSync = (): never => unavailable('unlinkSync');
export const accessSync = (): never => unavailable('accessSync');
export const statfsSync = (): never => unavailable('statfsSync');
export const constants = { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 };
export default { accessSync, statfsSync, constants, existsSync, readFileSync, writeFileSync, readdirSync, statSync, mkdirSync, renameSync, rmSync, openSync, closeSync, writeSync, fsyncSync, appendFileSync, unlinkSync };
