// `--plugin FILE` end to end: the CLI imports the user's module before it reads the config, so
// `simulate`, `sweep` (its worker processes), `cluster` (its peer processes), `peer` and `schema`
// know what the module registers. The runs are real processes; that they used the plug-ins is
// read from the wire (bytes per round are the plug-in compressor's message size over the plug-in
// topology's links) and, for `simulate`, from an in-process run of the same config, matched bit for bit.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import YAML from 'yaml';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from './run-cli.js';
import { loadPlugins } from '../../src/cli/plugins.js';
import { parseConfig } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { buildModel } from '../../src/model/zoo.js';
import { compression, paramsFrom, type ParamLayout } from '../../src/index.js';
import type { RoundMetrics } from '../../src/report/metrics.js';
import { configHash } from '../../src/node/config-hash.js';

const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];
const PLUGIN = 'tests/fixtures/cli-plugin.ts'; // compressor seeded-rand-k, topology two-hop-ring
const RULES = 'tests/fixtures/cli-rule-plugin.ts'; // rules half-step, drift-corrected

const root = mkdtempSync(join(tmpdir(), 'gossipfl-plugin-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function file(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

/** A small run over the plug-in topology with the plug-in compressor (CHOCO differences). */
const config = (peers: number, extra = '') => `name: plugin run
seed: 3
peers: ${peers}
rounds: 3
backend: cpu
data: { dataset: synthetic, train: 240, test: 60, features: 5, classes: 3, partition: { kind: iid } }
model: { kind: logreg }
training: { batchSize: 8, optimizer: { kind: sgd, lr: 0.2 } }
topology: { name: two-hop-ring }
aggregation: { name: choco-gossip }
compression: { method: seeded-rand-k, k: 2 }
eval: { every: 1 }
${extra}`;

async function spawnCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const [cmd, ...prefix] = CLI;
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, [...prefix, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

const readMetrics = (dir: string): RoundMetrics[] =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RoundMetrics);

/** A round's metrics without the wall clock (the only field two runs of one config may differ in). */
const untimed = (m: RoundMetrics) => ({ ...m, wallSeconds: 0 });

/** A config of built-in parts only, and its peers' config hash before any plug-in is loaded. */
const BUILT_IN = 'peers: 4\nrounds: 2\nbackend: cpu\ndata: { dataset: synthetic, train: 80, test: 20 }\nmodel: { kind: logreg }\ncompression: { method: top-k, ratio: 0.1 }\n';
const builtInHash = configHash(parseConfig(YAML.parse(BUILT_IN)));

const layout: ParamLayout = buildModel({ kind: 'logreg' }, [5], 3).layout;

/** Bytes of one seeded-rand-k message of the run's model, encoded by the plug-in itself (loaded as the CLI loads it). */
async function pluginMessageBytes(k = 2): Promise<number> {
  await loadPlugins([PLUGIN]);
  const c = compression.buildCompressor({ method: 'seeded-rand-k', k, errorFeedback: 'none' } as compression.CompressionSpec, 3) as compression.PointwiseCompressor;
  return c.encode(paramsFrom(layout, new Float32Array(layout.size).fill(0.5)), null, { seed: 3, round: 0, sender: 0 }).message.byteLength;
}

describe('gossipfl --plugin', () => {
  it('without --plugin: a config naming a plug-in is refused, and the schema does not list it', async () => {
    const cfg = file('unplugged.yaml', config(6));
    const out = join(root, 'unplugged');
    const r = await cli(['simulate', cfg, '--out', out, '--quiet']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/topology\.name: Invalid discriminator value[^\n]*compression\.method: Invalid option/);
    expect(existsSync(out)).toBe(false);
    expect((await cli(['schema'])).out).not.toContain('seeded-rand-k');
  });

  it('simulate: a separate process runs the plug-in topology and compressor, exactly as in-process', async () => {
    const cfg = file('sim.yaml', config(6));
    const out = join(root, 'sim');
    const r = await spawnCli(['simulate', cfg, '--plugin', PLUGIN, '--out', out, '--quiet', '--no-report']);
    expect(r.code, r.err).toBe(0);
    const rounds = readMetrics(out);
    expect(rounds).toHaveLength(3);
    // Every peer of two-hop-ring over 6 peers sends one seeded-rand-k message to each of its 4 neighbours.
    const bytes = await pluginMessageBytes();
    expect(bytes).toBe(108); // 88 header and tables + 2 layers × 2 floats + 4 CRC
    for (const m of rounds) expect(m.bytesSent).toBe(6 * 4 * bytes);
    // The same config in this process, the module loaded the same way: bit-identical rounds.
    expect(await loadPlugins([PLUGIN])).toEqual([{ file: PLUGIN, registered: ["topology 'two-hop-ring'", "compressor 'seeded-rand-k'"] }]);
    const local: RoundMetrics[] = [];
    await simulate(parseConfig(YAML.parse(readFileSync(cfg, 'utf8'))), { onRound: (m) => local.push(m) });
    expect(rounds.map(untimed)).toEqual(JSON.parse(JSON.stringify(local.map(untimed))));
  }, 60_000);

  it('schema: includes the variants the plug-in modules register', async () => {
    const after = await cli(['schema', '--plugin', PLUGIN, '--plugin', RULES]);
    expect(after.code).toBe(0);
    for (const name of ['seeded-rand-k', 'two-hop-ring', 'half-step', 'drift-corrected']) expect(after.out).toContain(`"${name}"`);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(after.out));
    expect(validate(YAML.parse(config(6)))).toBe(true);
    expect(validate(YAML.parse(config(6, 'aggregation: { name: half-step, step: 0.3 }').replace('aggregation: { name: choco-gossip }\n', '')))).toBe(true);
    // The plug-in's own schema is in it: a stray key of seeded-rand-k is refused.
    expect(validate({ ...YAML.parse(config(6)), compression: { method: 'seeded-rand-k', k: 2, ratio: 0.1 } })).toBe(false);
  });

  it('a missing file, a module that throws, a module that registers nothing: one line naming it, exit 2, no --out', async () => {
    const cfg = file('plain.yaml', 'peers: 4\nrounds: 1\nbackend: cpu\ndata: { dataset: synthetic, train: 80, test: 20 }\nmodel: { kind: logreg }\n');
    const cases: Array<[string, RegExp]> = [
      [join(root, 'absent-plugin.ts'), /^gossipfl: --plugin \S+absent-plugin\.ts: no such file; give the path of a module that registers plug-ins\n$/],
      ['tests/fixtures/plugin-throws.ts', /^gossipfl: --plugin tests\/fixtures\/plugin-throws\.ts: importing it failed: sensor folder not configured\n$/],
      ['tests/fixtures/plugin-empty.ts', /^gossipfl: --plugin tests\/fixtures\/plugin-empty\.ts: the module registered nothing; call e\.g\. aggregationRegistry\.register/],
      [root, /^gossipfl: --plugin \S+: no such file/],
    ];
    for (const [plugin, message] of cases) {
      for (const args of [['simulate', cfg, '--out'], ['schema', '--out'], ['peer', '--config', cfg, '--out']]) {
        const out = join(root, `refused-${readdirSync(root).length}`);
        const r = await cli([...args, out, '--plugin', plugin]);
        expect(r.code, `${args[0]} --plugin ${plugin}`).toBe(2);
        expect(r.err).toMatch(message);
        expect(existsSync(out)).toBe(false);
      }
    }
    // The exit status a shell sees.
    const out = join(root, 'refused-process');
    const r = await spawnCli(['simulate', cfg, '--plugin', 'tests/fixtures/plugin-throws.ts', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toBe('gossipfl: --plugin tests/fixtures/plugin-throws.ts: importing it failed: sensor folder not configured\n');
    expect(existsSync(out)).toBe(false);
  }, 60_000);

  it('peer: a plug-in rule with control variates is refused between real peers from its capability, before the node starts', async () => {
    const cfg = file('drift.yaml', 'peers: 4\nrounds: 2\nbackend: cpu\nmode: federated\ndata: { dataset: synthetic, train: 80, test: 20 }\nmodel: { kind: logreg }\ntraining: { batchSize: 8, optimizer: { kind: sgd, lr: 0.1 } }\naggregation: { name: drift-corrected }\n');
    const r = await cli(['peer', '--config', cfg, '--plugin', RULES, '--listen', '/ip4/127.0.0.1/tcp/0', '--out', join(root, 'drift'), '--serve']);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/^gossipfl: aggregation\.name drift-corrected: its control deltas travel to the server in the simulator only; between real peers use fedavg, /);
    expect(r.err).not.toMatch(/use [^\n]*(scaffold|drift-corrected)/);
  });

  it("the peers' config hash: a loaded but unused plug-in leaves it as it was; a used one is part of the config", async () => {
    await loadPlugins([PLUGIN, RULES]);
    expect(configHash(parseConfig(YAML.parse(BUILT_IN)))).toBe(builtInHash);
    // A plug-in a config names is in the parsed config, so its name and parameters are hashed like a built-in's.
    const hashOf = (extra: Record<string, unknown>) => configHash(parseConfig({ ...YAML.parse(BUILT_IN), ...extra }));
    const hashes = [
      builtInHash,
      hashOf({ compression: { method: 'seeded-rand-k', k: 2 } }),
      hashOf({ compression: { method: 'seeded-rand-k', k: 3 } }),
      hashOf({ topology: { name: 'two-hop-ring' } }),
      hashOf({ aggregation: { name: 'half-step' } }),
      hashOf({ aggregation: { name: 'half-step', step: 0.25 } }),
    ];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('sweep: every worker process imports the plug-in', async () => {
    const base = file('sweep-base.yaml', config(6));
    const sweep = file('plugins.sweep.yaml', `name: plugin sweep\nbase: ${base}\nseeds: [1]\nsettings:\n  - { name: k2 }\n  - { name: k4, set: { compression.k: 4 } }\n`);
    const out = join(root, 'sweep');
    const r = await spawnCli(['sweep', sweep, '--plugin', PLUGIN, '--out', out, '--workers', '2', '--quiet']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('plugin sweep: 2 run, 0 already finished, 0 failed');
    // k 4 keeps 4 + 3 values (the bias has 3): 88 + 7 × 4 + 4.
    expect(await pluginMessageBytes(4)).toBe(120);
    for (const [setting, k] of [['k2', 2], ['k4', 4]] as const) {
      const bytes = await pluginMessageBytes(k);
      for (const m of readMetrics(join(out, setting, 'seed-1'))) expect(m.bytesSent).toBe(6 * 4 * bytes);
    }
  }, 120_000);

  it('cluster: two peer processes load the plug-ins, run them and finish with the same merged model', async () => {
    const cfg = file('cluster.yaml', config(2, 'schedule: { localSteps: 2, merge: { final: true } }\n'));
    const out = join(root, 'cluster');
    // RULES is loaded but unused: the peers' config hash, and so the run, does not see it.
    // The --set name is a label only (not in the config hash, not in the simulated run below).
    // No --peers: the cluster starts the config's peers (2).
    const r = await spawnCli(['cluster', '--config', cfg, '--plugin', PLUGIN, '--plugin', RULES, '--set', 'name=cluster via set', '--out', out]);
    expect(r.code, r.err.split('\n').slice(-20).join('\n')).toBe(0);
    const peers = [0, 1].map((i) => join(out, `peer-${i}`));
    // A run that completed ends without failed sends: the last exchange's streams close cleanly at shutdown.
    expect(r.err).not.toMatch(/closed before the receiver's ack|update for round \d+ phase \d+ to \S+ failed/);
    // Each peer's folder is a run folder with its own report, as simulate writes it; the cluster's
    // report overlays both, one run per peer folder.
    for (const dir of peers) {
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<svg');
      expect(existsSync(join(dir, 'report-accuracy.png'))).toBe(true);
    }
    const combined = readFileSync(join(out, 'report.html'), 'utf8');
    expect(combined).toContain('gossipfl report: 2 runs');
    for (const name of ['peer-0', 'peer-1']) expect(combined).toContain(`<td>${name}</td>`);
    // The peers' folders hold the run's whole split, so their reports warn of nothing.
    expect(r.err).not.toMatch(/^\[peer \d\] report: |^warning: /m);
    expect(r.out).toContain(`report of all of them in ${join(out, 'report.html')}`);
    // Each peer's run folder holds the effective config: the file, the --set override, the defaults.
    const effective = parseConfig({ ...(YAML.parse(readFileSync(cfg, 'utf8')) as object), name: 'cluster via set' });
    for (const dir of peers) expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(effective)));
    const runs = peers.map(readMetrics);
    // Over 2 peers two-hop-ring has one link; gossip rounds carry one plug-in message per peer.
    const bytes = await pluginMessageBytes();
    for (const rounds of runs) for (const m of rounds.slice(0, -1)) expect(m.bytesSent).toBe(bytes);
    const finals = runs.map((rounds) => rounds.at(-1)!);
    for (const m of finals) expect(m).toMatchObject({ round: 3, globalMerge: true });
    // After the exact merge both hold one model: the same test loss and accuracy to the last bit.
    expect(finals[0].mergedLoss).toBeGreaterThan(0);
    expect([finals[0].mergedLoss, finals[0].mergedAccuracy]).toEqual([finals[1].mergedLoss, finals[1].mergedAccuracy]);
    // And it is the simulator's run: each process is the simulated peer of its shard, round by round.
    const local: RoundMetrics[] = [];
    await simulate(parseConfig(YAML.parse(readFileSync(cfg, 'utf8'))), { onRound: (m) => local.push(m) });
    for (const rounds of runs) {
      // Round 1's loss comes before any exchange, so it names the shard; later rounds check the exchanges.
      const shard = local[0].perPeer!.trainLoss.indexOf(rounds[0].trainLoss);
      expect(shard).toBeGreaterThanOrEqual(0);
      rounds.forEach((m, t) => expect(m.trainLoss).toBe(local[t].perPeer!.trainLoss[shard]));
    }
    expect(new Set(runs.map((rounds) => local[0].perPeer!.trainLoss.indexOf(rounds[0].trainLoss)))).toEqual(new Set([0, 1]));
    expect([finals[0].mergedLoss, finals[0].mergedAccuracy]).toEqual([local.at(-1)!.mergedLoss, local.at(-1)!.mergedAccuracy]);
  }, 120_000);
});
