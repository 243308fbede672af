// Choosing and starting the tfjs backend in a browser tab: the browser's own WebGPU, then WebGL,
// then wasm (XNNPACK, SIMD), then the pure-JavaScript cpu backend. The browser bundle puts this
// module in place of ./backend.ts (same exports), which reaches for Node's Dawn addon, Vulkan
// loaders and optional tfjs-node packages.
import { tf } from './tf.js';
import { BackendError } from '../util/errors.js';
import { pickBackend, type Attempt } from './backend-pick.js';
import type { BackendChoice, BackendInfo, BackendName, BackendRequirements } from './backend.js';

export type { BackendChoice, BackendInfo, BackendName, BackendRequirements } from './backend.js';

/** A backend the tab can be asked for: the Node choices (tensorflow is refused with a reason) and WebGL. */
export type TabBackendChoice = BackendChoice | 'webgl';
/** Every accepted `backend` value in the tab. */
export const BACKEND_CHOICES: readonly TabBackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu', 'tensorflow'];


/** What the tab's WebGPU adapter reports (navigator.gpu, typed as far as we use it). */
interface TabGpu {
  requestAdapter(): Promise<{ info?: { description?: string; vendor?: string; architecture?: string; isFallbackAdapter?: boolean } } | null>;
}

let current: BackendInfo | undefined;
let wasmPrefix: string | undefined;

/** Where the tfjs wasm binaries are served from (a URL prefix ending in `/`); set before initBackend. */
export function setWasmPrefix(prefix: string): void {
  wasmPrefix = prefix;
}

/** The backend started by the last successful initBackend, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/** Starts a backend in the tab; `auto` takes the fastest that starts and runs the model's ops, skipping software GPU adapters. */
export async function initBackend(choice: TabBackendChoice, requirements: BackendRequirements = {}, log: (line: string) => void = () => {}): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new BackendError(`unknown backend '${choice}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  const picked = await pickBackend<BackendName | 'webgl'>(choice, ['webgpu', 'webgl', 'wasm', 'cpu'], (name, auto) => tryBackend(name, requirements, auto), ' in this tab', log);
  current = { ...picked, name: tabName(picked.name) };
  return current;
}

async function tryBackend(name: BackendName | 'webgl', req: BackendRequirements, auto: boolean): Promise<Attempt> {
  switch (name) {
    case 'webgpu':
      return tryWebGpu(auto);
    case 'webgl':
      return tryWebGl(auto);
    case 'wasm':
      return tryWasm(req);
    case 'tensorflow':
      return { ok: false, why: 'the tensorflow backend is Node-only (tfjs-node)' };
    case 'cpu':
      return (await tf.setBackend('cpu')) ? { ok: true } : { ok: false, why: 'tfjs cpu backend failed to start' };
  }
}

/** BackendName lists the Node backends; 'webgl' exists only in the tab and is reported (shown, recorded) under its own name. */
function tabName(name: BackendName | 'webgl'): BackendName {
  return name as BackendName;
}

function isSoftware(text: string): boolean {
  return /swiftshader|llvmpipe|lavapipe|software/i.test(text);
}

async function tryWebGpu(auto: boolean): Promise<Attempt> {
  const gpu = (globalThis as { navigator?: { gpu?: TabGpu } }).navigator?.gpu;
  if (!gpu) return { ok: false, why: 'this browser exposes no WebGPU (navigator.gpu is missing)' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { ok: false, why: 'navigator.gpu has no adapter' };
  const info = adapter.info ?? {};
  const described = [info.description, info.vendor, info.architecture].filter((s) => s && s.length > 0).join(' / ') || 'WebGPU adapter';
  if (auto && (info.isFallbackAdapter === true || isSoftware(described))) {
    return { ok: false, why: `the only WebGPU adapter is a software one (${described}), slower than wasm` };
  }
  // The backend registers itself only when navigator.gpu exists at import time, as it does here.
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) return { ok: false, why: 'tfjs-backend-webgpu failed to initialise on the adapter' };
  return { ok: true, device: described };
}

async function tryWebGl(auto: boolean): Promise<Attempt> {
  const renderer = webGlRenderer();
  if (renderer === null) return { ok: false, why: 'this browser offers no WebGL 2 context' };
  if (auto && isSoftware(renderer)) return { ok: false, why: `WebGL runs on a software renderer (${renderer}), slower than wasm` };
  await import('@tensorflow/tfjs-backend-webgl');
  if (!(await tf.setBackend('webgl'))) return { ok: false, why: 'tfjs-backend-webgl failed to initialise' };
  return { ok: true, device: renderer };
}

/** The WebGL 2 renderer's name (unmasked where the browser allows), or null without WebGL 2. */
function webGlRenderer(): string | null {
  const doc = (globalThis as { document?: { createElement(tag: 'canvas'): { getContext(kind: 'webgl2'): WebGlContext | null } } }).document;
  const gl = doc?.createElement('canvas').getContext('webgl2') ?? null;
  if (!gl) return null;
  const debug = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  return String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

interface WebGlContext {
  readonly RENDERER: number;
  getExtension(name: string): unknown;
  getParameter(which: number): unknown;
}

async function tryWasm(req: BackendRequirements): Promise<Attempt> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (wasmPrefix !== undefined) wasm.setWasmPaths(wasmPrefix);
  const { registerWasmTrainingKernels } = await import('./wasm-kernels.js');
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) return { ok: false, why: 'the WebAssembly module failed to load' };
  if (req.convGradients && !tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    return { ok: false, why: 'no Conv2DBackpropFilter kernel, so a CNN cannot train on it' };
  }
  return { ok: true, device: 'WebAssembly SIMD' };
}
