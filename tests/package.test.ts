// The published package, end to end: `npm pack` (which builds dist/ through `prepare`), install
// the tarball into an empty project, then run the CLI through npx, import the package root from
// a script, and type-check an import against the package's own declarations. Only the npm
// registry is needed (the dependencies come from npm's cache after our own install).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'gossipfl-package-'));
const project = join(scratch, 'project');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Our own `npm test` environment carries npm_* settings (prefix, package); the nested npm must not inherit them. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const { stdout } = await promisify(execFile)(cmd, args, { cwd, env: cleanEnv, timeout: 180_000, maxBuffer: 64 << 20 });
  return stdout;
}

interface PackResult {
  filename: string;
  size: number;
  unpackedSize: number;
  files: Array<{ path: string }>;
}

describe('npm package', () => {
  let packed: PackResult;
  const seconds: Record<string, number> = {};
  const timed = async <T>(step: string, f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      seconds[step] = Math.round((performance.now() - t0) / 100) / 10;
    }
  };

  beforeAll(async () => {
    packed = await timed('pack', async () => JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', scratch], root))[0]);
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'uses-gossipfl', private: true, type: 'module' }));
    await timed('install', () => run('npm', ['install', join(scratch, packed.filename), '--prefer-offline', '--no-audit', '--no-fund'], project));
  }, 300_000);

  afterAll(() => {
    if (packed) {
      process.stdout.write(
        `gossipfl tarball: ${(packed.size / 1024).toFixed(1)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(1)} KiB unpacked, ${packed.files.length} files; ` +
          `seconds: ${Object.entries(seconds).map(([k, v]) => `${k} ${v}`).join(', ')}\n`,
      );
    }
  });

  it('holds the built library, the README and the guides, and no tests, fixtures, examples, benches, runs, source maps or API HTML', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths).toContain('dist/cli/main.js');
    expect(paths).toContain('README.md');
    expect(paths).toContain('docs/config.md');
    const unwanted = paths.filter((p) => /^(tests|bench|simulations|runs|examples|scripts|src|docs\/api)\/|\.test\.|\.map$|fixture/.test(p));
    expect(unwanted).toEqual([]);
  });

  it('installs a runnable `gossipfl` command (shebang, executable bit)', async () => {
    const help = await timed('cli', () => run('npx', ['--no-install', 'gossipfl', '--help'], project));
    expect(help).toMatch(/^Usage: gossipfl /);
    for (const command of ['simulate', 'start', 'train', 'topology', 'report']) expect(help).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(statSync(join(project, 'node_modules', 'gossipfl', 'dist', 'cli', 'main.js')).mode & 0o111).not.toBe(0);
  });

  it("imports from 'gossipfl' (and the exports map hides deep paths)", async () => {
    writeFileSync(
      join(project, 'use.mjs'),
      [
        "import { Rng, makeLayout, zerosParams } from 'gossipfl';",
        "const layout = makeLayout([{ name: 'w', shape: [2, 3] }, { name: 'b', shape: [3], role: 'bias' }]);",
        'console.log(JSON.stringify({ size: layout.size, zeros: zerosParams(layout).data.length, draw: new Rng(7).nextUint32() }));',
        "await import('gossipfl/dist/index.js').then(() => console.log('deep import allowed'), (e) => console.log(e.code));",
      ].join('\n'),
    );
    const out = (await timed('import', () => run(process.execPath, ['use.mjs'], project))).trim().split('\n');
    expect(JSON.parse(out[0])).toEqual({ size: 9, zeros: 9, draw: new Rng(7).nextUint32() });
    expect(out[1]).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('ships declarations that TypeScript resolves through the exports map', async () => {
    writeFileSync(
      join(project, 'use.ts'),
      [
        "import { Rng, makeLayout, type ParamLayout } from 'gossipfl';",
        "const layout: ParamLayout = makeLayout([{ name: 'w', shape: [4] }]);",
        'const draw: number = new Rng(1).nextUint32() + layout.size;',
        '// @ts-expect-error makeLayout takes tensor declarations; an untyped package would accept this',
        'makeLayout(42);',
        'export { draw };',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['use.ts'] }),
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await expect(timed('typecheck', () => run(process.execPath, [tsc, '-p', 'tsconfig.json'], project))).resolves.toBe('');
  });
});
