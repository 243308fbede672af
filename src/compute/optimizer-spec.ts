// The local optimizer's settings as plain data: model/ builds its state and steps from it, and
// the compute kernels bake its constants into their source.

/** SGD (with optional heavy-ball momentum) or Adam, with optional L2 weight decay. */
export type OptimizerSpec =
  | { readonly kind: 'sgd'; readonly lr: number; readonly momentum?: number; readonly weightDecay?: number }
  | {
      readonly kind: 'adam';
      readonly lr: number;
      readonly beta1?: number;
      readonly beta2?: number;
      readonly epsilon?: number;
      readonly weightDecay?: number;
    };
