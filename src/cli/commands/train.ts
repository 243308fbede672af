// `gossipfl train`: one centralized run, the baseline every federated or decentralized run is
// compared with. Same model zoo, trainer and data split as the simulator.
import { Command, Option } from 'commander';
import { initBackend, BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { buildModel, describeModel, type ModelSpec } from '../../model/zoo.js';
import { Trainer } from '../../model/trainer.js';
import { initOptimizerState, type OptimizerSpec } from '../../model/optimizer.js';
import { batchIterator, loadDataSource } from '../../data/index.js';
import { intList, positiveInt, positiveNumber, nonNegativeInt } from '../options.js';
import { startProgress } from '../progress.js';

interface TrainOptions {
  model: 'logreg' | 'mlp' | 'cnn';
  hidden?: number[];
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: 'sgd' | 'momentum' | 'adam';
  backend: BackendChoice;
  seed: number;
  dataset?: 'mnist' | 'fashion-mnist';
  trainSize?: number;
  testSize?: number;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train one model centrally on MNIST digits or Fashion-MNIST (the baseline for federated runs)')
    .addOption(new Option('--dataset <name>', 'dataset').choices(['mnist', 'fashion-mnist']).default('mnist'))
    .addOption(new Option('--model <kind>', 'model').choices(['logreg', 'mlp', 'cnn']).default('mlp'))
    .option('--hidden <widths>', 'hidden layer widths of the MLP (comma-separated)', intList('--hidden'))
    .option('--epochs <n>', 'passes over the training set', positiveInt('--epochs'), 5)
    .option('--batch-size <n>', 'minibatch size', positiveInt('--batch-size'), 32)
    .option('--lr <rate>', 'learning rate', positiveNumber('--lr'))
    .addOption(new Option('--optimizer <kind>', 'optimizer; momentum is SGD with momentum 0.9, a config\'s { kind: sgd, momentum: 0.9 }').choices(['sgd', 'momentum', 'adam']).default('momentum'))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices([...BACKEND_CHOICES]).default('auto'))
    .option('--seed <n>', 'seed of init, split and batches', nonNegativeInt('--seed'), 1)
    .option('--train-size <n>', 'training samples (default: mnist 8000, fashion-mnist 60000)', positiveInt('--train-size'))
    .option('--test-size <n>', 'test samples (default: mnist 2000, fashion-mnist 10000)', positiveInt('--test-size'))
    .option('--json', 'print the result as one JSON object')
    .option('--quiet', 'no progress (a bar on a terminal, else a line per 10% of the epochs or 30 s)')
    .action(async (opts: TrainOptions) => {
      const result = await trainCentralized(opts, (line) => process.stderr.write(`${line}\n`));
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        process.stdout.write(
          `${result.model} on ${result.backend}: test accuracy ${(result.testAccuracy * 100).toFixed(2)}% ` +
            `(loss ${result.testLoss.toFixed(4)}) after ${result.epochs} epoch${result.epochs === 1 ? '' : 's'} in ${result.seconds.toFixed(1)} s ` +
            `(${Math.round(result.samplesPerSecond)} samples/s)\n`,
        );
      }
    });
}

export interface CentralizedResult {
  model: string;
  dataset: string;
  backend: string;
  device?: string;
  epochs: number;
  testAccuracy: number;
  testLoss: number;
  seconds: number;
  samplesPerSecond: number;
  history: Array<{ epoch: number; trainLoss: number; testAccuracy: number }>;
}

export async function trainCentralized(opts: TrainOptions, log: (line: string) => void): Promise<CentralizedResult> {
  const spec: ModelSpec =
    opts.model === 'mlp' ? { kind: 'mlp', hidden: opts.hidden ?? [128] } : opts.model === 'cnn' ? { kind: 'cnn' } : { kind: 'logreg' };
  const sizes = opts.dataset === 'fashion-mnist' ? { train: 60_000, test: 10_000 } : { train: 8000, test: 2000 };
  const { train, test } = loadDataSource(
    { dataset: opts.dataset ?? 'mnist', train: opts.trainSize ?? sizes.train, test: opts.testSize ?? sizes.test },
    opts.seed,
  );
  const model = buildModel(spec, train.featureShape, train.numClasses);
  const backend = await initBackend(opts.backend, { convGradients: model.needsConvGradients }, log);
  const lr = opts.lr ?? (opts.optimizer === 'adam' ? 0.001 : opts.optimizer === 'momentum' ? 0.02 : 0.05);
  const optimizer: OptimizerSpec =
    opts.optimizer === 'adam' ? { kind: 'adam', lr } : { kind: 'sgd', lr, ...(opts.optimizer === 'momentum' ? { momentum: 0.9 } : {}) };
  const trainer = new Trainer(model, optimizer);
  const params = model.init(opts.seed);
  const state = initOptimizerState(optimizer, model.layout);
  const batches = batchIterator(train, opts.batchSize, opts.seed + 1);
  const stepsPerEpoch = Math.ceil(train.n / opts.batchSize);
  const progress = startProgress(opts.epochs, 'train', { quiet: opts.quiet, unit: 'epoch' });
  const history: CentralizedResult['history'] = [];
  const t0 = performance.now();
  let trainSeconds = 0;
  let last = { loss: 0, accuracy: 0 };
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const s0 = performance.now();
      const r = await trainer.train(params, state, batches.next, stepsPerEpoch);
      trainSeconds += (performance.now() - s0) / 1000;
      last = await trainer.evaluate(params, test);
      history.push({ epoch, trainLoss: r.loss, testAccuracy: last.accuracy });
      progress.update(epoch, { loss: r.loss.toFixed(3), acc: `${(last.accuracy * 100).toFixed(1)}%` });
    }
  } finally {
    progress.stop();
    trainer.dispose();
  }
  return {
    model: describeModel(spec),
    dataset: `${train.name} (${train.n}) / ${test.name} (${test.n})`,
    backend: backend.name,
    ...(backend.device ? { device: backend.device } : {}),
    epochs: opts.epochs,
    testAccuracy: last.accuracy,
    testLoss: last.loss,
    seconds: (performance.now() - t0) / 1000,
    samplesPerSecond: (stepsPerEpoch * opts.batchSize * opts.epochs) / trainSeconds,
    history,
  };
}
