// The registry of models: one entry per `model.kind`, with its parameters (a zod object), its
// builder and the input shapes it accepts. The config's model section and docs/config.md derive
// from it. A new model is one entry (its own file or a line here) in MODELS, or, from code,
// modelRegistry.register() with a builder returning your own Model.
import { z } from 'zod';
import { Registry } from '../util/registry.js';
import { ConfigError } from '../util/errors.js';
import { cnnModel, denseModel, type Model } from './zoo.js';

/** The input shapes a model accepts. */
export interface ModelCapabilities {
  /** any: samples of any shape, flattened; image: [height, width, channels]. */
  readonly inputs: 'any' | 'image';
  /** Its forward pass is the zoo's, so compiled kernels (the WebGPU path) may replace it; false for your own. */
  readonly zoo?: boolean;
}

/** A model a config can name. */
export interface ModelEntry<S extends z.ZodObject = z.ZodObject> extends ModelCapabilities {
  readonly name: string;
  readonly summary: string;
  /** Parameters, `kind` fixed to the name. */
  readonly schema: S;
  /** The model for samples of `inputShape` and `numClasses` classes; ConfigError for shapes it cannot take. */
  build(spec: z.output<S>, inputShape: readonly number[], numClasses: number): Model;
}

/** An entry with its schema's type kept, so `build` sees the typed spec (use it for a plug-in too). */
export function defineModel<const S extends z.ZodObject>(e: ModelEntry<S>): ModelEntry<S> {
  return e;
}

const positiveInt = z.number().int().min(1);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The built-in models, in the order the config lists them. */
export const MODELS = [
  defineModel({
    name: 'logreg',
    summary: 'logistic regression (one dense layer)',
    inputs: 'any',
    zoo: true,
    schema: z.strictObject({ kind: z.literal('logreg') }),
    build: (s, shape, classes) => denseModel(s, shape, size(shape), [], classes),
  }),
  defineModel({
    name: 'mlp',
    summary: 'dense layers with ReLU',
    inputs: 'any',
    zoo: true,
    schema: z.strictObject({ kind: z.literal('mlp'), hidden: z.array(positiveInt).default([128]).describe('units of each hidden dense layer') }),
    build: (s, shape, classes) => {
      for (const h of s.hidden) {
        if (!Number.isInteger(h) || h < 1) throw new ConfigError(`model.hidden: widths must be positive integers, got ${h}`);
      }
      return denseModel(s, shape, size(shape), s.hidden, classes);
    },
  }),
  defineModel({
    name: 'cnn',
    summary: 'LeNet-style: two 5×5 convolutions with pooling, then dense layers (images ≥ 12×12)',
    inputs: 'image',
    zoo: true,
    schema: z.strictObject({
      kind: z.literal('cnn'),
      channels: z.tuple([positiveInt, positiveInt]).optional().describe('output channels of the two convolution layers (default [6, 16])'),
      hidden: z.array(positiveInt).optional().describe('units of each hidden dense layer after them (default [120, 84])'),
    }),
    build: (s, shape, classes) => cnnModel(s, shape, classes),
  }),
] as const;

/** Every model a config can name. */
export const modelRegistry = new Registry<ModelEntry>('model', 'model.kind', MODELS as unknown as ModelEntry[]);
