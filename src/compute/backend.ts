// Choosing and starting the tfjs backend.
//
//   webgpu      tfjs-backend-webgpu over Dawn's Node addon (npm `webgpu`), talking Vulkan.
//   tensorflow  @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, only if the user installed
//               one (it downloads libtensorflow at install time, so it is never a dependency).
//   wasm        tfjs-backend-wasm (XNNPACK, SIMD). Fast on CPUs; has no Conv2DBackpropFilter
//               kernel of its own (see ./wasm-kernels.ts for ours).
//   cpu         tfjs-backend-cpu, pure JavaScript: slow, always available, every op.
//
// `auto` tries them in that order and takes the first that starts and runs the model's ops.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf } from './tf.js';
import { BackendError } from '../util/errors.js';
import { pickBackend, type Attempt } from './backend-pick.js';

/** A tfjs backend gossipfl can run on. */
export type BackendName = 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
/** What a user may ask for: a backend by name, or `auto` (the fastest that starts). */
export type BackendChoice = BackendName | 'auto';
/** Every accepted `backend` value, for CLI choices and validation. */
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

/** The backend that started, why it was chosen, and the device where known. */
export interface BackendInfo {
  readonly name: BackendName;
  /** Why this backend was chosen (for `auto`) or that it was asked for. */
  readonly reason: string;
  /** Adapter or device description where one is known. */
  readonly device?: string;
}

/** What the model needs from a backend, so `auto` skips backends that lack it. */
export interface BackendRequirements {
  /** The model needs convolution gradients (a CNN). */
  readonly convGradients?: boolean;
}


let current: BackendInfo | undefined;

/** The backend started by the last successful initBackend, if any. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

/**
 * Starts a backend. An explicitly named backend that cannot start is an error naming why and
 * what to do; `auto` logs its pick through `log`.
 */
export async function initBackend(
  choice: BackendChoice,
  requirements: BackendRequirements = {},
  log: (line: string) => void = () => {},
): Promise<BackendInfo> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new BackendError(`unknown backend '${choice}'; choose one of ${BACKEND_CHOICES.join(', ')}`);
  }
  current = await pickBackend<BackendName>(choice, ['webgpu', 'tensorflow', 'wasm', 'cpu'], (name, auto) => tryBackend(name, requirements, auto), '', log);
  return current;
}

async function tryBackend(name: BackendName, req: BackendRequirements, auto = false): Promise<Attempt> {
  switch (name) {
    case 'webgpu':
      return tryWebGpu(auto);
    case 'tensorflow':
      return tryTensorflow();
    case 'wasm':
      return tryWasm(req);
    case 'cpu':
      return (await tf.setBackend('cpu')) ? { ok: true } : { ok: false, why: 'tfjs cpu backend failed to start' };
  }
}

/**
 * Where the wasm binaries are when this code runs bundled into one file with no node_modules
 * beside it: the bundle's own folder (copy @tensorflow/tfjs-backend-wasm/dist/*.wasm there).
 * Undefined when the package resolves, so tfjs finds them in its own dist folder as usual.
 */
export function bundledWasmDir(moduleUrl: string = import.meta.url): string | undefined {
  try {
    createRequire(moduleUrl).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    return undefined;
  } catch {
    return `${dirname(fileURLToPath(moduleUrl))}${sep}`;
  }
}

async function tryWasm(req: BackendRequirements): Promise<Attempt> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const bundled = bundledWasmDir();
  if (bundled !== undefined) {
    if (!existsSync(`${bundled}tfjs-backend-wasm-simd.wasm`)) {
      return { ok: false, why: `@tensorflow/tfjs-backend-wasm is not installed and no .wasm files lie beside this program in ${bundled}; copy node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm there` };
    }
    wasm.setWasmPaths(bundled);
  }
  const { registerWasmTrainingKernels } = await import('./wasm-kernels.js');
  registerWasmTrainingKernels();
  if (!(await tf.setBackend('wasm'))) return { ok: false, why: 'the WebAssembly module failed to load' };
  if (req.convGradients && !tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    return { ok: false, why: 'no Conv2DBackpropFilter kernel, so a CNN cannot train on it' };
  }
  return { ok: true, device: 'WebAssembly SIMD' };
}

let webgpuGlobalsInstalled = false;

/** Where a Vulkan loader may live; Dawn prints a native warning when it finds none, so we look first. */
function hasVulkanLoader(): boolean {
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/usr/lib',
    '/lib/x86_64-linux-gnu',
    '/usr/local/lib',
  ];
  if (process.platform !== 'linux') return true; // macOS/Windows: Dawn uses Metal/D3D, no loader needed
  return dirs.some((d) => existsSync(`${d}/libvulkan.so.1`));
}

/** `auto` skips a software adapter (SwiftShader, llvmpipe): it runs the kernels on the CPU, slower than wasm. */
async function tryWebGpu(auto: boolean): Promise<Attempt> {
  if (!hasVulkanLoader()) {
    return { ok: false, why: 'no Vulkan loader (libvulkan.so.1) on this machine, so no GPU is reachable through WebGPU' };
  }
  let gpu: { requestAdapter(): Promise<unknown> };
  try {
    // Dawn's addon must be on globalThis.navigator before tfjs-backend-webgpu is imported:
    // the backend registers itself only if navigator.gpu exists at import time.
    const dawn = (await import('webgpu')) as unknown as { create(flags: string[]): typeof gpu; globals: object };
    if (!webgpuGlobalsInstalled) {
      Object.assign(globalThis, dawn.globals);
      const nav = (globalThis as { navigator?: Record<string, unknown> }).navigator;
      // Dawn's own flags (e.g. disable-dawn-features=timestamp_quantization), space-separated; for measuring.
      const created = dawn.create((process.env.GOSSIPFL_DAWN_FLAGS ?? '').split(/\s+/).filter(Boolean));
      if (nav && typeof nav === 'object') {
        Object.defineProperty(nav, 'gpu', { value: created, configurable: true });
      } else {
        Object.defineProperty(globalThis, 'navigator', { value: { gpu: created }, configurable: true, writable: true });
      }
      webgpuGlobalsInstalled = true;
    }
    gpu = (globalThis as unknown as { navigator: { gpu: typeof gpu } }).navigator.gpu;
  } catch (err) {
    return { ok: false, why: `Dawn's WebGPU addon did not load (${(err as Error).message.split('\n')[0]})` };
  }
  const adapter = (await gpu.requestAdapter()) as {
    info?: { description?: string; vendor?: string; device?: string; architecture?: string; isFallbackAdapter?: boolean };
  } | null;
  if (!adapter) return { ok: false, why: 'no WebGPU adapter: this machine has no Vulkan-capable GPU (or no Vulkan loader/driver)' };
  const software = adapter.info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe/i.test(`${adapter.info?.architecture} ${adapter.info?.description}`);
  if (auto && software) return { ok: false, why: `the only WebGPU adapter is a software one (${adapter.info?.description ?? 'CPU'}), slower than wasm; name --backend webgpu to use it anyway` };
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) return { ok: false, why: 'tfjs-backend-webgpu failed to initialise on the adapter' };
  const info = adapter.info;
  const device = [info?.description, info?.vendor, info?.device].filter((s) => s && s.length > 0).join(' / ') || 'WebGPU adapter';
  return { ok: true, device };
}

async function tryTensorflow(): Promise<Attempt> {
  const require = createRequire(import.meta.url);
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      require.resolve(pkg);
    } catch {
      continue;
    }
    try {
      // A variable specifier keeps bundlers and tsc from requiring the optional package.
      await import(/* @vite-ignore */ pkg);
      if (await tf.setBackend('tensorflow')) return { ok: true, device: pkg };
      return { ok: false, why: `${pkg} is installed but its backend did not start` };
    } catch (err) {
      return { ok: false, why: `${pkg} is installed but failed to load (${(err as Error).message.split('\n')[0]})` };
    }
  }
  return { ok: false, why: 'neither @tensorflow/tfjs-node-gpu nor @tensorflow/tfjs-node is installed (see README: optional backends)' };
}
