export { initBackend, currentBackend, BACKEND_CHOICES } from './backend.js';
export type { BackendName, BackendChoice, BackendInfo, BackendRequirements } from './backend.js';
export { tf } from './tf.js';
export type { GemmTile } from './webgpu/gemm.js';
