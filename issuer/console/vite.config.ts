/**
 * Builds the console into `issuer/dist/console`, which the issuer serves at `/console/` under a
 * strict Content-Security-Policy: no inline script or style, so nothing is inlined (no asset as a
 * data: URL, no module-preload polyfill script), and every path is relative so the console works
 * under any prefix a proxy gives the issuer.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
});
