// Pre-compressed copies of the built UI: its JavaScript is some 300 KB, a quarter of that as brotli.
// Compressing once at build time costs nothing per request, unlike compressing every answer; `hookline serve` sends `file.br` or `file.gz` to a browser that accepts it
// (@fastify/static `preCompressed`) and the file itself to anyone else.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const compressible = new Set(['.js', '.css', '.html', '.svg', '.json', '.txt', '.map']);
// Below this a compressed copy saves less than the headers it adds.
const minBytes = 1024;

/** Writes `name.br` and `name.gz` beside every compressible file of `dir` (recursively) that they make smaller. */
export function precompressDir(dir: string): number {
  let written = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      written += precompressDir(path);
      continue;
    }
    if (!compressible.has(extname(entry.name)) || statSync(path).size < minBytes) continue;
    const body = readFileSync(path);
    const variants: Array<[string, Buffer]> = [
      [
        '.br',
        brotliCompressSync(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
          },
        }),
      ],
      ['.gz', gzipSync(body, { level: 9 })],
    ];
    for (const [suffix, compressed] of variants) {
      if (compressed.length >= body.length) continue;
      writeFileSync(path + suffix, compressed);
      written += 1;
    }
  }
  return written;
}

/** A Vite plugin that pre-compresses the build output once it is written. */
export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'hookline-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = join(config.root, config.build.outDir);
    },
    closeBundle() {
      precompressDir(outDir);
    },
  };
}
