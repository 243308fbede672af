// Builds the browser page: one ES module bundle of the peer (round driver, codecs, aggregation,
// topology, tfjs, libp2p over WebSockets), the page's HTML and the tfjs wasm binaries. Node's
// built-in modules are routed to the tab's stand-ins in ./shims (a bundling error names any
// other), and compute/backend is replaced by compute/browser-backend (the browser's own WebGPU,
// WebGL, wasm).
//
//   npm run build:browser [-- <out dir>]      default dist/page
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Plugin } from 'esbuild';
import { ConfigError } from '../util/errors.js';
import { pageHtml } from './page/html.js';

const here = dirname(fileURLToPath(import.meta.url));
/** .ts when run from the sources (tsx, tests), .js when run from the compiled package. */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const SHIMMED = new Set(['fs', 'path', 'zlib', 'crypto', 'events', 'module']);
/** Node-only packages the Node code names (create-node.ts): stand-ins that refuse in the tab. */
const NODE_ONLY = /^(@libp2p\/mdns|@chainsafe\/libp2p-quic)$/;
/** Modules that call Buffer on a path the tab reaches: they get the shim's Buffer in scope. */
const NEEDS_BUFFER = /[\\/]node[\\/](frame|keys)\.(ts|js)$/;

/** What a build wrote. */
export interface BrowserBuild {
  readonly outDir: string;
  readonly files: readonly string[];
  readonly bundleBytes: number;
}

/** Writes index.html, app.js and the tfjs wasm binaries into `outDir`. */
export async function buildBrowserBundle(outDir: string): Promise<BrowserBuild> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch (cause) {
    throw new ConfigError('serve-page: building the page needs esbuild (a development dependency); run npm install in the gossipfl checkout', { cause });
  }
  mkdirSync(outDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(here, 'page', `main${ext}`)],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile: join(outDir, 'app.js'),
    minify: true,
    metafile: true,
    logLevel: 'silent',
    plugins: [tabPlugin()],
  });
  const require = createRequire(import.meta.url);
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm'));
  const wasm = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'];
  for (const name of wasm) copyFileSync(join(wasmDir, name), join(outDir, name));
  writeFileSync(join(outDir, 'index.html'), pageHtml());
  const bundleBytes = Object.values(result.metafile.outputs).reduce((s, o) => s + o.bytes, 0);
  return { outDir, files: ['index.html', 'app.js', ...wasm], bundleBytes };
}

/** Routes node: imports to the shims, compute/backend to its browser variant, and gives Buffer to the modules that need it. */
function tabPlugin(): Plugin {
  const shim = (name: string) => join(here, 'shims', `${name}${ext}`);
  const nodeBackend = resolve(here, '..', 'compute', `backend${ext}`);
  return {
    name: 'gossipfl-tab',
    setup(build) {
      build.onResolve({ filter: /^node:/ }, (args) => {
        const name = args.path.slice('node:'.length);
        if (SHIMMED.has(name)) return { path: shim(name) };
        return { errors: [{ text: `${args.importer} imports ${args.path}, which has no stand-in in the tab (src/browser/shims)` }] };
      });
      build.onResolve({ filter: NODE_ONLY }, () => ({ path: shim('node-only') }));
      build.onResolve({ filter: /\/backend\.js$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path.replace(/\.js$/, ext));
        return target === nodeBackend ? { path: resolve(here, '..', 'compute', `browser-backend${ext}`) } : undefined;
      });
      build.onLoad({ filter: NEEDS_BUFFER }, async (args) => {
        const { readFile } = await import('node:fs/promises');
        const source = await readFile(args.path, 'utf8');
        return { contents: `import { Buffer } from ${JSON.stringify(shim('buffer'))};\n${source}`, loader: ext === '.ts' ? 'ts' : 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}

if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const out = resolve(process.argv[2] ?? join(here, '..', '..', 'dist', 'page'));
  if (!existsSync(dirname(out))) mkdirSync(dirname(out), { recursive: true });
  const built = await buildBrowserBundle(out);
  process.stdout.write(`page written to ${built.outDir} (app.js ${(built.bundleBytes / 1e6).toFixed(2)} MB)\n`);
}
