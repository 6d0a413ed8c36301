#!/usr/bin/env node
// Serves the explorer page on 127.0.0.1, with node's http module alone:
//   node serve.mjs [--port N] [--rpc ws://HOST:PORT]
// `--port 0` takes a free port. It prints the page's address as `explorer: URL`, with
// `?rpc=` when `--rpc` names the node (the page's own default is ws://127.0.0.1:9944).
// The page is static: index.html, style.css and the bundle `npm run build` writes to dist/.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

/** What is served, by request path: the page, its stylesheet and its bundle; nothing else. */
const FILES = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/explorer.js': ['dist/explorer.js', 'text/javascript; charset=utf-8'],
};

/** The page's address for `port`, naming `rpc` as the node when given. */
function pageUrl(port, rpc) {
  const base = `http://127.0.0.1:${port}/`;
  if (!rpc) return base;
  // ':' and '/' may stay as they are in a query, which keeps the link readable.
  return `${base}?rpc=${encodeURIComponent(rpc).replace(/%3A/gi, ':').replace(/%2F/gi, '/')}`;
}

/** Answers one request with a file of [`FILES`], or 404 / 405. */
async function answer(request, response) {
  const entry = FILES[new URL(request.url, 'http://localhost').pathname];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
  } else if (!entry) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  } else {
    const [file, type] = entry;
    const body = await readFile(new URL(file, import.meta.url));
    // Read on each request and never cached, so a rebuilt bundle shows on the next reload.
    response.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache' });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, rpc: { type: 'string' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port wants a port number (0 for a free one), not ${values.port}`);
  process.exit(2);
}
if (values.rpc && !/^wss?:\/\//.test(values.rpc)) {
  console.error(`--rpc wants the node's WebSocket URL (ws://HOST:PORT), not ${values.rpc}`);
  process.exit(2);
}
if (!existsSync(new URL('dist/explorer.js', import.meta.url))) {
  console.error('dist/explorer.js is missing: run `npm run build` in explorer/ first');
  process.exit(1);
}

const server = createServer((request, response) => {
  answer(request, response).catch((error) => {
    response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`);
  });
});
server.listen(port, '127.0.0.1', () => {
  console.log(`explorer: ${pageUrl(server.address().port, values.rpc)}`);
});
