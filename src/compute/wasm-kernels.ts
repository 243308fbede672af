// Kernels tfjs-backend-wasm lacks for training. It has no Conv2DBackpropFilter, so a CNN could
// not train on it; this JavaScript kernel reads the inputs straight from the wasm heap (no copy)
// and accumulates dW[fh, fw, ci, co] = Σ_b,oh,ow x[b, oh·sh + fh − padTop, ow·sw + fw − padLeft, ci] · dy[b, oh, ow, co]
// with the output-channel loop innermost (contiguous in both dy and dW).
import { tf } from './tf.js';
import type { tf as TF } from './tf.js';

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TF.TensorInfo;
  typedArrayFromHeap(info: TF.TensorInfo): Float32Array;
}

let registered = false;

export function registerWasmTrainingKernels(): void {
  if (registered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as { x: TF.TensorInfo; dy: TF.TensorInfo };
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
        strides: number | [number, number];
        pad: 'valid' | 'same' | number;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm, gossipfl): only NHWC is supported');
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        'channelsLast',
      );
      const wasm = backend as unknown as WasmBackendLike;
      const out = wasm.makeOutput([...filterShape], 'float32');
      // Take the heap views after makeOutput: allocation may grow (and detach) the heap.
      const xs = wasm.typedArrayFromHeap(x);
      const dys = wasm.typedArrayFromHeap(dy);
      const dw = wasm.typedArrayFromHeap(out);
      conv2dFilterGradient(xs, dys, dw, info);
      return out;
    },
  });
}

/** dW for NHWC input, NHWC dy and an [fh, fw, ci, co] filter; dilation 1. Exported for tests. */
export function conv2dFilterGradient(
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
  c: {
    batchSize: number;
    inHeight: number;
    inWidth: number;
    inChannels: number;
    outHeight: number;
    outWidth: number;
    outChannels: number;
    filterHeight: number;
    filterWidth: number;
    strideHeight: number;
    strideWidth: number;
    dilationHeight?: number;
    dilationWidth?: number;
    padInfo: { top: number; left: number };
  },
): void {
  if ((c.dilationHeight ?? 1) !== 1 || (c.dilationWidth ?? 1) !== 1) {
    throw new Error('Conv2DBackpropFilter (wasm, gossipfl): dilation > 1 is not supported');
  }
  dw.fill(0);
  const { inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = c;
  const FH = c.filterHeight;
  const FW = c.filterWidth;
  for (let b = 0; b < c.batchSize; b++) {
    const xBase = b * H * W * CI;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * c.strideHeight - c.padInfo.top;
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * c.strideWidth - c.padInfo.left;
        const dyBase = ((b * OH + oh) * OW + ow) * CO;
        for (let fh = 0; fh < FH; fh++) {
          const ih = ih0 + fh;
          if (ih < 0 || ih >= H) continue;
          for (let fw = 0; fw < FW; fw++) {
            const iw = iw0 + fw;
            if (iw < 0 || iw >= W) continue;
            const xPix = xBase + (ih * W + iw) * CI;
            const wBase = (fh * FW + fw) * CI * CO;
            for (let ci = 0; ci < CI; ci++) {
              const xv = x[xPix + ci];
              if (xv === 0) continue; // MNIST and post-ReLU activations are mostly zero
              const row = wBase + ci * CO;
              for (let co = 0; co < CO; co++) dw[row + co] += xv * dy[dyBase + co];
            }
          }
        }
      }
    }
  }
}
