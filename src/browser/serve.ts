// Serves the built page and the run it joins (run.json) over plain HTTP. Only the files of the
// build are served, by exact name; anything else is a 404. Nothing is received: the tab's data
// never comes back here.
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GossipflError } from '../util/errors.js';
import type { BrowserBuild } from './build.js';
import type { RunInfo } from './tab.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json; charset=utf-8',
};

/** A listening page server. */
export interface PageServer {
  /** The page's address, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `build` and the run (as /run.json; 503 while `info` gives undefined, before the peer listens) on host:port (port 0: one the OS picks). */
export async function servePage(build: BrowserBuild, info: () => RunInfo | undefined, host: string, port: number): Promise<PageServer> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of build.files) {
    files.set(`/${name}`, { body: readFileSync(join(build.outDir, name)), type: TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream' });
  }
  files.set('/', files.get('/index.html')!);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/run.json' && req.method === 'GET') {
      const run = info();
      if (!run) return void res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' }).end('the peer is starting; reload in a moment\n');
      return void res.writeHead(200, { 'content-type': TYPES['.json'], 'cache-control': 'no-store' }).end(JSON.stringify(run));
    }
    const file = req.method === 'GET' || req.method === 'HEAD' ? files.get(path) : undefined;
    if (!file) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length, 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new GossipflError('network', `serve-page: cannot listen on ${host}:${port}: ${err.code ?? err.message} (pick another --port)`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
