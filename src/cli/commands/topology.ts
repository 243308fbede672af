// `gossipfl topology NAME --peers N [...]`: builds a topology and prints what a run would see —
// peers, edges, degrees, spectral gap (or per-round consensus rate), stochasticity,
// symmetry, connectivity — as text or, with --json, as one JSON object.
import type { Command } from 'commander';
import { pluginOption } from '../plugins.js';
import { ConfigError } from '../../util/errors.js';
import { summarizeTopology, type TopologySummary } from '../../topology/analysis.js';
import { buildTopology, parseTopologySpec, STATIC_GRAPH_NAMES, TOPOLOGY_NAMES, type TopologySpec } from '../../topology/spec.js';

interface TopologyFlags {
  peers?: string;
  degree?: string;
  p?: string;
  r?: string;
  rows?: string;
  seed?: string;
  file?: string;
  base?: string;
  of?: string;
  weights?: string;
  rounds?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('topology')
    .description('build a topology and print its size, degrees, spectral gap and mixing properties')
    .argument('<name>', `one of: ${TOPOLOGY_NAMES.join(', ')}`)
    .option('--peers <n>', 'number of peers (≥ 2); for edge-list, optional (default: largest index + 1)')
    .option('--degree <d>', 'degree: random-regular d, watts-strogatz k (even)')
    .option('--p <p>', 'erdos-renyi edge probability; watts-strogatz rewiring probability')
    .option('--r <r>', 'pull: expected peers pulled per round (e.g. 0.2, 1, 2.5)')
    .option('--rows <rows>', 'torus/grid: number of rows (default: most square layout)')
    .option('--seed <s>', 'seed of random graphs and schedules', '0')
    .option('--file <path>', 'edge-list: file of "i j" or "i j w" lines, 0-based, # comments')
    .option('--base <name>', `matching/pull: draw only along this static graph's links (${STATIC_GRAPH_NAMES.join(', ')})`)
    .option('--of <names>', 'cycle: comma-separated topologies used in turn, round by round')
    .option('--weights <scheme>', 'metropolis-hastings (default; uniform for exponential) or uniform')
    .option('--rounds <t>', 'time-varying: rounds to analyse (default: the period, or ⌈log2 n⌉)')
    .option('--json', 'print one JSON object')
    .addOption(pluginOption())
    .action((name: string, flags: TopologyFlags) => {
      const spec = specFromFlags(name, flags);
      const summary = summarizeTopology(buildTopology(spec), { rounds: optionalInt(flags.rounds, '--rounds') });
      process.stdout.write(flags.json ? `${JSON.stringify(jsonOf(summary))}\n` : textOf(summary));
    });
}

/** Turns the command's flags into a topology config (the same object a YAML config would hold). */
export function specFromFlags(name: string, flags: TopologyFlags): TopologySpec {
  const peers = optionalInt(flags.peers, '--peers');
  const seed = optionalInt(flags.seed, '--seed');
  const part = (partName: string): Record<string, unknown> => {
    const need = (value: string | undefined, flag: string) => {
      if (value === undefined) throw new ConfigError(`topology ${partName} needs ${flag}`);
      return value;
    };
    const spec: Record<string, unknown> = { name: partName, peers };
    switch (partName) {
      case 'torus':
      case 'grid':
        spec.rows = optionalInt(flags.rows, '--rows');
        break;
      case 'random-regular':
        spec.degree = optionalInt(need(flags.degree, '--degree'), '--degree');
        spec.seed = seed;
        break;
      case 'erdos-renyi':
        spec.p = number(need(flags.p, '--p'), '--p');
        spec.seed = seed;
        break;
      case 'watts-strogatz':
        spec.degree = optionalInt(need(flags.degree, '--degree'), '--degree');
        spec.beta = number(need(flags.p, '--p (the rewiring probability)'), '--p');
        spec.seed = seed;
        break;
      case 'edge-list':
        spec.path = need(flags.file, '--file');
        break;
      case 'matching':
      case 'pull':
        if (partName === 'pull') spec.r = number(need(flags.r, '--r'), '--r');
        spec.seed = seed;
        if (flags.base !== undefined) {
          if (!STATIC_GRAPH_NAMES.includes(flags.base as never)) {
            throw new ConfigError(`--base must be a static graph (${STATIC_GRAPH_NAMES.join(', ')}), got "${flags.base}"`);
          }
          spec.base = part(flags.base);
        }
        break;
    }
    if (flags.weights !== undefined && STATIC_GRAPH_NAMES.includes(partName as never)) spec.weights = flags.weights;
    for (const key of Object.keys(spec)) if (spec[key] === undefined) delete spec[key];
    return spec;
  };
  if (peers === undefined && name !== 'edge-list') throw new ConfigError(`topology ${name} needs --peers N (N ≥ 2)`);
  if (name === 'cycle') {
    const names = (flags.of ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw new ConfigError('topology cycle needs --of NAME[,NAME...], e.g. --of ring,one-peer-exponential');
    return parseTopologySpec({ name, peers, of: names.map(part) });
  }
  return parseTopologySpec(part(name));
}

function number(text: string, flag: string): number {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x)) throw new ConfigError(`${flag} must be a number, got "${text}"`);
  return x;
}

function optionalInt(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const x = number(text, flag);
  if (!Number.isInteger(x)) throw new ConfigError(`${flag} must be an integer, got "${text}"`);
  return x;
}

/** The JSON object: the documented keys first, then the details behind them. */
function jsonOf(s: TopologySummary): Record<string, unknown> {
  return {
    name: s.name,
    peers: s.peers,
    edges: s.edges,
    degree: s.degree,
    spectralGap: gapOf(s),
    doublyStochastic: s.doublyStochastic,
    symmetric: s.symmetric,
    connected: s.connected,
    slem: s.slem,
    spectralMethod: s.spectralMethod,
    spectralConverged: s.spectralConverged,
    rowStochastic: s.rowStochastic,
    timeVarying: s.timeVarying,
    period: s.period,
    rounds: s.rounds,
  };
}

const METHOD_TEXT: Record<TopologySummary['spectralMethod'], string> = {
  'symmetric-eigen': 'exact eigenvalues of symmetric W',
  'symmetric-lanczos': 'Lanczos on symmetric W',
  'norm-exact': '‖W − J‖₂, exact; bounds the SLEM of non-symmetric W',
  'norm-lanczos': '‖W − J‖₂ by Lanczos on (W − J)ᵀ(W − J); bounds the SLEM of non-symmetric W',
  'product-norm-exact': 'per-round rate of the product over the rounds, exact norm',
  'product-norm-lanczos': 'per-round rate of the product over the rounds, norm by Lanczos',
};

/** A disconnected graph has gap exactly 0; the eigen solver returns rounding noise (~1e-16) for it. */
function gapOf(s: TopologySummary): number {
  return s.connected ? s.spectralGap : 0;
}

function textOf(s: TopologySummary): string {
  const yes = (b: boolean) => (b ? 'yes' : 'no');
  const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toPrecision(6));
  const rows: Array<[string, string]> = [
    ['topology', s.name],
    ['peers', String(s.peers)],
    [s.timeVarying ? 'edges/round' : 'edges', fmt(s.edges)],
    ['degree', `min ${s.degree.min}, mean ${fmt(s.degree.mean)}, max ${s.degree.max}`],
    [
      'spectral gap',
      s.connected
        ? `${fmt(s.spectralGap)} (${s.timeVarying ? 'rate' : 'SLEM'} ${fmt(s.slem)}; ${METHOD_TEXT[s.spectralMethod]}${s.spectralConverged ? '' : '; not converged at the step cap'})`
        : '0 (disconnected: the components never mix)',
    ],
    ['doubly stochastic', s.rowStochastic ? yes(s.doublyStochastic) : 'no (not even row-stochastic)'],
    ['symmetric', yes(s.symmetric)],
    ['connected', yes(s.connected) + (s.timeVarying ? ` (union of ${s.rounds} rounds)` : '')],
  ];
  if (s.timeVarying) rows.push(['period', s.period === null ? `none (random each round; analysed ${s.rounds} rounds)` : String(s.period)]);
  if (!s.doublyStochastic && s.rowStochastic) rows[5][1] = 'no (row-stochastic only)';
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}\n`).join('');
}
