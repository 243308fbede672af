// The single import point of TensorFlow.js. The umbrella package registers the gradient
// functions (tfjs-core's Node bundle alone does not), so every tfjs user imports `tf` from here.
import * as tf from '@tensorflow/tfjs';

// PROD skips tfjs's debug checks and its "install tfjs-node" banner; we pick backends ourselves.
tf.env().set('PROD', true);

export { tf };
