// The single import point of TensorFlow.js: tfjs-core with the pure-JavaScript CPU backend
// (always there), plus the gradient functions training needs (tfjs-core's Node build has
// none; see gradients.ts). The wasm and webgpu backends are imported when chosen.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerGradients } from './gradients.js';

// PROD skips tfjs's debug checks; we pick backends ourselves.
tf.env().set('PROD', true);
registerGradients();

export { tf };
