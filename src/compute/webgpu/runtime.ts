/// <reference types="@webgpu/types" />
// A thin layer over the WebGPU device that tfjs-backend-webgpu already opened: compiled
// pipelines cached by their WGSL, storage buffers, bind groups, and whole command sequences
// encoded into one compute pass and one submit.
//
// Why not tfjs's runWebGPUProgram: every call there re-creates a bind group, uploads a uniform
// buffer and goes through tfjs's tensor bookkeeping — about 0.1–0.2 ms of host time per
// dispatch, which is the whole cost of a small model's step. Here the bind groups of a training
// step are built once, and a step costs three native calls per dispatch.
import { tf } from '../tf.js';
import { BackendError } from '../../util/errors.js';
import type { Kernel } from './wgsl.js';

/** A byte range of a storage buffer bound to one kernel binding. */
export interface BufferRange {
  readonly buffer: GPUBuffer;
  /** Byte offset; a multiple of the device's minStorageBufferOffsetAlignment (256). */
  readonly offset?: number;
  readonly size?: number;
}

/** One recorded dispatch: a compiled kernel, its bind group and its workgroup grid. */
export interface Dispatch {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: readonly [number, number, number];
}

/** A whole-prefix buffer copy run after a submit's dispatches. */
export interface BufferCopy {
  readonly from: GPUBuffer;
  readonly to: GPUBuffer;
  readonly bytes: number;
}

/** Work encoded before a submit's compute pass: a copy, or zeroing the first bytes of a buffer. */
export type BufferPrep = BufferCopy | { readonly clear: GPUBuffer; readonly bytes: number };

/** WebGPU's storage-buffer binding offset alignment (the spec's default and minimum). */
export const BINDING_ALIGNMENT = 256;

/** Rounds a byte count up to the binding alignment. */
export function alignBytes(bytes: number): number {
  return Math.ceil(bytes / BINDING_ALIGNMENT) * BINDING_ALIGNMENT;
}

/** The device of the running tfjs webgpu backend, with caches for pipelines and helpers for buffers. */
export class GpuRuntime {
  readonly device: GPUDevice;
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** Idle readback buffers by size (a power of two): a new one costs a creation and Dawn's zero-fill of it. */
  private readonly idleStaging = new Map<number, GPUBuffer[]>();

  private constructor(device: GPUDevice) {
    this.device = device;
  }

  private static shared: GpuRuntime | undefined;

  /** The runtime on tfjs's WebGPU device; throws BackendError when the webgpu backend is not active. */
  static fromTfjs(): GpuRuntime {
    if (tf.getBackend() !== 'webgpu') throw new BackendError('the WebGPU kernels need the webgpu backend (start it with --backend webgpu)');
    const device = (tf.backend() as unknown as { device: GPUDevice }).device;
    if (!GpuRuntime.shared || GpuRuntime.shared.device !== device) GpuRuntime.shared = new GpuRuntime(device);
    return GpuRuntime.shared;
  }

  /** The compiled pipeline of a kernel (compiled once per distinct WGSL source). */
  async pipeline(kernel: Kernel): Promise<GPUComputePipeline> {
    const cached = this.pipelines.get(kernel.code);
    if (cached) return cached;
    const module = this.device.createShaderModule({ code: kernel.code, label: kernel.name });
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await this.device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: kernel.name });
    } catch (err) {
      const info = await module.getCompilationInfo();
      const messages = info.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
      throw new BackendError(`WebGPU kernel '${kernel.name}' failed to compile: ${messages || (err as Error).message}`);
    }
    this.pipelines.set(kernel.code, pipeline);
    return pipeline;
  }

  /** A storage buffer of `bytes` (rounded up to 4), readable and writable by copies. */
  storage(bytes: number, label: string): GPUBuffer {
    return this.device.createBuffer({
      size: Math.max(4, Math.ceil(bytes / 4) * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    });
  }

  /** Binds buffers to a kernel's bindings, in the kernel's binding order. */
  bindGroup(kernel: Kernel, pipeline: GPUComputePipeline, ranges: Readonly<Record<string, BufferRange>>): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: kernel.bindings.map((b, i) => {
        const r = ranges[b.name];
        if (!r) throw new Error(`kernel '${kernel.name}': no buffer for binding '${b.name}'`);
        return { binding: i, resource: { buffer: r.buffer, offset: r.offset ?? 0, ...(r.size !== undefined ? { size: r.size } : {}) } };
      }),
    });
  }

  /** Writes typed data into a buffer at a byte offset (queued; ordered before later submits). */
  write(buffer: GPUBuffer, byteOffset: number, data: Float32Array | Int32Array): void {
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Encodes `before`, then the dispatches in one compute pass, then the buffer copies, and submits them. */
  submit(dispatches: readonly Dispatch[], copies: readonly BufferCopy[] = [], before: readonly BufferPrep[] = []): void {
    const encoder = this.device.createCommandEncoder();
    for (const b of before) {
      if ('clear' in b) encoder.clearBuffer(b.clear, 0, b.bytes);
      else encoder.copyBufferToBuffer(b.from, 0, b.to, 0, b.bytes);
    }
    const pass = encoder.beginComputePass();
    for (const d of dispatches) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
    }
    pass.end();
    for (const c of copies) encoder.copyBufferToBuffer(c.from, 0, c.to, 0, c.bytes);
    this.device.queue.submit([encoder.finish()]);
  }

  /** Whether the device can time passes (the adapter offered timestamp-query and tfjs asked for it). */
  get canTimePasses(): boolean {
    return this.device.features.has('timestamp-query');
  }

  /**
   * Runs the dispatches in one compute pass with timestamps at its start and end and returns
   * the pass's GPU time in ms (undefined without timestamp-query). For measuring only: it waits
   * for the GPU. Dawn quantizes timestamps unless its timestamp_quantization toggle is off.
   */
  async passMs(dispatches: readonly Dispatch[]): Promise<number | undefined> {
    if (!this.canTimePasses) return undefined;
    const querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 });
    const resolve = this.device.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = this.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = this.device.createCommandEncoder();
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
      for (const d of dispatches) {
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(d.grid[0], d.grid[1], d.grid[2]);
      }
      pass.end();
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16);
      this.device.queue.submit([encoder.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      const [t0, t1] = new BigInt64Array(staging.getMappedRange());
      return Number(t1 - t0) / 1e6;
    } finally {
      querySet.destroy();
      resolve.destroy();
      staging.destroy();
    }
  }

  /** Copies byte ranges of buffers to the host (one staging buffer, one map); returns them as float32 views. */
  async read(ranges: readonly { readonly buffer: GPUBuffer; readonly offset: number; readonly bytes: number }[]): Promise<Float32Array[]> {
    const total = ranges.reduce((s, r) => s + r.bytes, 0);
    const size = 2 ** Math.ceil(Math.log2(Math.max(256, total)));
    const staging = this.idleStaging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    let at = 0;
    for (const r of ranges) {
      if (r.bytes) encoder.copyBufferToBuffer(r.buffer, r.offset, staging, at, r.bytes);
      at += r.bytes;
    }
    this.device.queue.submit([encoder.finish()]);
    let ok = false;
    try {
      await staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, Math.ceil(total / 4) * 4));
      const all = new Float32Array(staging.getMappedRange(0, Math.max(4, Math.ceil(total / 4) * 4)).slice(0));
      staging.unmap();
      ok = true;
      const out: Float32Array[] = [];
      at = 0;
      for (const r of ranges) {
        out.push(all.subarray(at / 4, (at + r.bytes) / 4));
        at += r.bytes;
      }
      return out;
    } finally {
      const idle = this.idleStaging.get(size) ?? [];
      this.idleStaging.set(size, idle);
      // A few idle ones per size up to 16 MB are kept; a buffer whose map failed is dropped.
      if (ok && idle.length < 4 && size <= 1 << 24) idle.push(staging);
      else staging.destroy();
    }
  }

}
