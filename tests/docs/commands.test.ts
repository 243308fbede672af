// Every shell command in the fenced code blocks of README.md and docs/*.md is either run here and
// must exit 0, or stands in SKIP with the reason it cannot run here. A command in the docs that is
// in neither list fails the test, and so does an entry of either list that no doc shows any more,
// so a new command in the docs cannot go unchecked.
//
// The commands run in a scratch folder that holds the files the docs leave to the reader (run.yaml,
// cfg.yaml, my-parts.ts, study.sweep.yaml: small ones, written below) and links to the repository's
// simulations/ and node_modules/, so each command runs as printed, with the repository's configs
// and every output (runs/…, *.json, swarm.key) in the scratch folder. gossipfl commands run in this
// process through the CLI's main() unless they start processes of their own (sweep, cluster); a
// shipped config or the embedded default gets a few `--set` overrides appended (RUN says which) so
// that it takes seconds instead of its full length. Beside the docs, `--help` of every command and
// subcommand must exit 0.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { cli } from '../cli/run-cli.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** One command as a doc shows it: the text (comment dropped, blanks folded) and where it stands. */
interface DocCommand {
  readonly text: string;
  readonly where: string;
}

/** Words a shell command in the docs starts with (after VAR=value assignments). */
const COMMAND_WORDS = new Set(['npm', 'npx', 'node', 'gossipfl', 'tsx', 'bash', 'sh', 'python3', 'git']);
/** Fence languages whose lines may be commands; `ts`, `yaml` and the like never are. */
const SHELL_FENCES = new Set(['', 'sh', 'bash', 'shell', 'console']);

/** The shell commands in the fenced code blocks of one Markdown file (`a && b` is two commands). */
function commandsIn(markdown: string, file: string): DocCommand[] {
  const out: DocCommand[] = [];
  let fence: string | undefined;
  let pending = '';
  let pendingLine = 0;
  markdown.split('\n').forEach((line, i) => {
    const open = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (fence === undefined) {
      if (open) fence = open[2].toLowerCase();
      return;
    }
    if (open && open[2] === '') {
      fence = undefined;
      return;
    }
    if (!SHELL_FENCES.has(fence)) return;
    const code = line.replace(/(^|\s)#.*$/, '').trim();
    if (pending === '') pendingLine = i + 1;
    if (code.endsWith('\\')) {
      pending += `${code.slice(0, -1)} `;
      return;
    }
    const whole = `${pending}${code}`.replace(/\s+/g, ' ').trim();
    pending = '';
    for (const part of whole.split(' && ')) {
      const words = part.trim().split(' ');
      const first = words.find((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
      if (first !== undefined && COMMAND_WORDS.has(first)) out.push({ text: part.trim(), where: `${file}:${pendingLine}` });
    }
  });
  return out;
}

/** Commands outside fences, in 4-space indented lines (an indented code block): this test would not see them. */
function indentedCommands(markdown: string, file: string): DocCommand[] {
  let fenced = false;
  return markdown.split('\n').flatMap((line, i) => {
    if (/^\s*(`{3,}|~{3,})/.test(line)) fenced = !fenced;
    const first = /^ {4,}([\w:.-]+)/.exec(line)?.[1];
    return !fenced && first !== undefined && COMMAND_WORDS.has(first) ? [{ text: line.trim(), where: `${file}:${i + 1}` }] : [];
  });
}

const docFiles = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const docText = (f: string) => readFileSync(join(root, f), 'utf8');

/** `gossipfl ARGS`, `npx gossipfl ARGS`, `npm run gossipfl -- ARGS` and npm scripts that run the CLI: its arguments. */
function cliArgs(text: string): string[] | undefined {
  const words = text.split(' ');
  if (words[0] === 'gossipfl') return words.slice(1);
  if (words[0] === 'npx' && words[1] === 'gossipfl') return words.slice(2);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = words[0] === 'npm' && words[1] === 'start' ? 'start' : words[0] === 'npm' && words[1] === 'run' ? words[2] : undefined;
  if (script === undefined) return undefined;
  const body = /^tsx src\/cli\/main\.ts(?: (.*))?$/.exec(pkg.scripts[script] ?? '');
  if (!body) return undefined;
  const rest = words.slice(script === 'start' ? 2 : 3);
  if (rest[0] === '--') rest.shift();
  return [...(body[1] ? body[1].split(' ') : []), ...rest];
}

/** A shipped config or the embedded default, cut to seconds: 1 round over 800 samples. */
const SMALL = ['--set', 'rounds=1', '--set', 'data.train=800', '--set', 'data.test=100', '--no-report', '--quiet'];

/**
 * The commands run here. `extra` is appended to the command as printed; `processes` runs the CLI
 * as a process of its own (`node --import tsx src/cli/main.ts`), for commands that start workers
 * or peers as `node <argv[1]>`. Every one is a gossipfl command (the others in the docs are skipped).
 */
const RUN: Record<string, { extra?: string[]; processes?: true }> = {
  // README.md
  'npm start': { extra: SMALL },
  'npm run gossipfl -- train --model cnn': { extra: ['--epochs', '1', '--train-size', '256', '--test-size', '100', '--quiet'] },
  'npm run gossipfl -- simulate simulations/heterogeneity/ring-alpha-0.5.yaml --out runs/a05': { extra: SMALL },
  'npm run gossipfl -- report runs/a05 runs/b': {},
  'npm run gossipfl -- simulate cfg.yaml --plugin my-parts.ts': { extra: ['--quiet'] },
  'npm run gossipfl -- topology exponential --peers 64': {},
  'npm run gossipfl -- cluster --config cfg.yaml': { processes: true },
  'npm run gossipfl -- psk new swarm.key': {},
  // docs/plugins.md
  'gossipfl simulate run.yaml --plugin my-parts.ts --out runs/h': { extra: ['--quiet'] },
  'gossipfl sweep study.sweep.yaml --plugin my-parts.ts': { processes: true },
  'gossipfl schema --plugin my-parts.ts --out config.schema.json': {},
  'gossipfl topology two-hop-ring --peers 16 --plugin my-parts.ts': {},
  // docs/simulations.md
  'npx gossipfl start': { extra: [...SMALL, '--overwrite'] },
  'npx gossipfl simulate run.yaml --out runs/a': { extra: ['--quiet'] },
  'npx gossipfl simulate run.yaml --out runs/b --seed 2 --rounds 10 --backend cpu --overwrite': { extra: ['--quiet'] },
  'npx gossipfl simulate run.yaml --out runs/c --set data.partition.alpha=0.1 --set topology.name=exponential': { extra: ['--quiet'] },
  'npx gossipfl report runs/a runs/b --out both.html': {},
  'npx gossipfl schema --out gossipfl.schema.json': {},
};

/** The commands not run here, each with why. */
const SKIP: Record<string, string> = {
  // README.md
  'npm install': 'fetches the dependencies from the npm registry; this test runs in the installed checkout',
  'npm test': 'the whole test suite, this test included',
  'npm run gossipfl -- peer --config cfg.yaml --listen /ip4/0.0.0.0/tcp/9000 --bootstrap /ip4/…/tcp/9000/p2p/…': 'one peer of a run spread over several machines (the bootstrap address is a placeholder)',
  'npm run bench': 'the benchmark suite, minutes long',
  'npm run test:reliability': 'the long fault, fuzz and churn suite',
  'npm run docs': 'typedoc over the whole API, longer than this test may take',
  // docs/browser.md
  'npx gossipfl serve-page --config run.yaml --host 10.0.0.5 --port 8080 --psk swarm.key': 'serves the page that browsers open to join (needs browsers; the address is a placeholder)',
  // docs/compression.md
  'npx esbuild bench/compression-op.ts --bundle --platform=node --format=esm --outfile=OUT/op.mjs': 'a timing recipe: bundles the op for the next command',
  'node OUT/op.mjs topk-encode 200': 'a timing measurement: 200 top-k encodings of a 10M-float update',
  // docs/gpu.md
  'bash scripts/pack-gpu.sh bench/gpu.ts .gpu': 'packs for a GPU host (compresses node and Dawn: a minute or more)',
  'bash scripts/pack-gpu.sh src/cli/main.ts .gpu': 'packs for a GPU host (compresses node and Dawn: a minute or more)',
  'bash scripts/pack-gpu.sh bench/gpu-sim.ts .gpu': 'packs for a GPU host (compresses node and Dawn: a minute or more)',
  'bash .gpu/run.sh --out gpu.json --torch bench/torch_baseline.py': 'needs an NVIDIA GPU (and a pack)',
  'bash .gpu/run.sh simulate bench/gpu-sim/batched-mlp-256.yaml --backend webgpu --out runs/gpu': 'needs an NVIDIA GPU (and a pack)',
  'bash .gpu/run.sh --out gpu-sim.json': 'needs an NVIDIA GPU (and a pack)',
  'VK_DRIVER_FILES=/usr/lib/chromium/vk_swiftshader_icd.json npx vitest run tests/gpu': "needs Chromium's SwiftShader Vulkan driver and libvulkan1",
  'npx tsx bench/gpu-sim.ts --backend wasm --peers 16 --rounds 2 --big 64 --out r.json': "the GPU benchmark's CPU check: minutes of wasm work on 2 cores (a 300-peer parity case, engine rates)",
  // docs/peers.md, docs/plugins.md
  'npx gossipfl peer --config run.yaml --listen /ip4/0.0.0.0/tcp/4001 --key state/peer.key --psk swarm.key --out runs/peer': 'the first peer of a run over several machines: it waits for the others',
  'npx gossipfl peer --config run.yaml --listen /ip4/0.0.0.0/tcp/4001 --bootstrap /ip4/10.0.0.5/tcp/4001/p2p/12D3KooW… --key state/peer.key --psk swarm.key': 'one peer of a run over several machines (the bootstrap address is a placeholder)',
  'gossipfl cluster --config run.yaml --peers 4 --plugin my-parts.ts':
    "4 peer processes, 30 s and more on 2 cores; README's cluster runs here with 2, tests/cli/plugins.test.ts runs cluster with --plugin",
  'gossipfl peer --config run.yaml --plugin my-parts.ts --bootstrap …': 'one peer of a run over several machines (the bootstrap address is a placeholder)',
  // docs/report.md
  'gossipfl report DIR... [--out FILE]': 'a usage synopsis (DIR and FILE are placeholders)',
  // docs/simulations.md
  'npx gossipfl sweep simulations/fashion/sweep.yaml': 'a whole study on Fashion-MNIST, hours long',
  'npx tsx simulations/lib/results-from-sweep.ts FROM [--study NAME]... [--to DIR] [--runs DIR]': 'a usage synopsis (FROM needs a finished sweep; tests/simulations covers the script)',
  // docs/topology.md
  'gossipfl topology NAME --peers N [--degree d] [--p p] [--r r] [--rows k] [--seed s]': 'a usage synopsis (NAME and N are placeholders)',
};

/** What the docs leave to the reader: small run configs (cfg.yaml: 2 peers, as `cluster` starts a process per peer), a plug-in module, a sweep. */
const runYaml = (peers: number) => `name: docs run
peers: ${peers}
rounds: 2
backend: cpu
data: { dataset: synthetic, train: 240, test: 60, features: 5, classes: 3, partition: { kind: dirichlet, alpha: 0.5 } }
model: { kind: logreg }
training: { batchSize: 8, optimizer: { kind: sgd, lr: 0.2 } }
topology: { name: ring }
aggregation: { name: gossip }
eval: { every: 1 }
`;
const SWEEP_YAML = `name: docs-sweep
base: run.yaml
seeds: [1]
settings:
  - { name: ring, set: {} }
metrics: [mergedAccuracy]
`;

let scratch = '';
let cwd = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'gossipfl-doc-commands-'));
  writeFileSync(join(scratch, 'run.yaml'), runYaml(4));
  writeFileSync(join(scratch, 'cfg.yaml'), runYaml(2));
  writeFileSync(join(scratch, 'study.sweep.yaml'), SWEEP_YAML);
  // A user's project is ESM like this one, so that tsx loads my-parts.ts as a module.
  writeFileSync(join(scratch, 'package.json'), '{ "type": "module" }\n');
  // The docs' my-parts.ts registers the rule half-step and the topology two-hop-ring: the fixtures do.
  const fixture = (name: string) => JSON.stringify(join(root, 'tests', 'fixtures', name));
  writeFileSync(join(scratch, 'my-parts.ts'), `import ${fixture('cli-plugin.ts')};\nimport ${fixture('cli-rule-plugin.ts')};\n`);
  for (const linked of ['simulations', 'node_modules']) symlinkSync(join(root, linked), join(scratch, linked));
  cwd = process.cwd();
  process.chdir(scratch);
});
afterAll(() => {
  process.chdir(cwd);
  rmSync(scratch, { recursive: true, force: true });
});

async function run(text: string): Promise<{ code: number; out: string; err: string }> {
  const plan = RUN[text];
  const args = cliArgs(text);
  if (args === undefined) throw new Error(`${text}: not a gossipfl command; RUN runs only those`);
  if (!plan.processes) return cli([...args, ...(plan.extra ?? [])]);
  const argv = ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts'), ...args, ...(plan.extra ?? [])];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, argv, { cwd: scratch, timeout: 60_000, maxBuffer: 1 << 24 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

/** Every command and subcommand of the CLI, as argument lists (`['psk', 'new']`). */
function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  return cmd.commands.filter((c) => c.name() !== 'help').flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

const commands = docFiles.flatMap((f) => commandsIn(docText(f), f));
const texts = [...new Set(commands.map((c) => c.text))];
// Producers first: a `report` reads the runs that the `simulate` commands write.
const runs = texts.filter((t) => t in RUN).sort((a, b) => Number(/ report /.test(a)) - Number(/ report /.test(b)));

describe('the commands in the docs', () => {
  it('finds the commands of README.md and docs/*.md', () => {
    expect(texts.length).toBeGreaterThan(30);
    expect(texts).toContain('npm run gossipfl -- topology exponential --peers 64');
  });

  it('stand in fenced blocks, not in indented ones', () => {
    const indented = docFiles.flatMap((f) => indentedCommands(docText(f), f)).map((c) => `${c.where}: ${c.text}`);
    expect(indented, 'put them in a ```sh block').toEqual([]);
  });

  it('runs or skips, with a reason, every one of them; neither list names a command no doc shows', () => {
    const unchecked = commands.filter((c) => !(c.text in RUN) && !(c.text in SKIP)).map((c) => `${c.where}: ${c.text}`);
    expect(unchecked, 'add each to RUN or, with the reason it cannot run here, to SKIP').toEqual([]);
    expect(Object.keys(RUN).filter((t) => t in SKIP), 'in both lists').toEqual([]);
    expect([...Object.keys(RUN), ...Object.keys(SKIP)].filter((t) => !texts.includes(t)), 'no doc shows these any more').toEqual([]);
  });

  for (const text of runs) {
    it(`${text} exits 0`, async () => {
      const { code, out, err } = await run(text);
      expect(code, `${out}\n${err}`).toBe(0);
    });
  }

  it('the outputs the commands name are there', () => {
    for (const path of ['runs/a05/summary.json', 'runs/a/summary.json', 'runs/b/summary.json', 'runs/c/summary.json', 'runs/h/summary.json', 'both.html', 'report.html', 'swarm.key', 'gossipfl.schema.json', 'config.schema.json']) {
      expect(existsSync(join(scratch, path)), path).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(scratch, 'runs/b/summary.json'), 'utf8'))).toMatchObject({ rounds: 10, backend: 'cpu' });
    expect(readFileSync(join(scratch, 'config.schema.json'), 'utf8')).toContain('two-hop-ring');
  });
});

describe('--help', () => {
  it('of the program and of every command and subcommand exits 0 and prints its usage', async () => {
    const paths = commandPaths(buildProgram());
    expect(paths.length).toBeGreaterThanOrEqual(11);
    for (const path of [[], ...paths]) {
      const { code, out } = await cli([...path, '--help']);
      expect(code, path.join(' ')).toBe(0);
      expect(out, path.join(' ')).toContain(`Usage: gossipfl${path.length ? ` ${path.join(' ')}` : ''}`);
    }
  });
});
