// Differential privacy for peer updates: clipping, Gaussian noise (local and central), and
// an RDP accountant that reports ε for a given δ. See docs/privacy.md.
export { clipUpdate, l2Norm, type Clipped } from './clip.js';
export { addGaussianNoise, centralNoiseStd, privatizeUpdate } from './noise.js';
export { composeRdp, DEFAULT_ORDERS, epsilonFromRdp, privacySpent, rdpSampledGaussian, type GaussianSteps } from './rdp.js';
export { runPrivacy, type PrivacySpec } from './run.js';
export { privacySpecSchema, type PrivacyConfig } from './spec.js';
