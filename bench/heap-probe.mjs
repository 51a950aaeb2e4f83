/**
 * Loaded into a verifier process with `--import` (and `--expose-gc`) by the cold-start
 * benchmark: on the IPC message `heap` it collects garbage and answers its heap use, so that
 * memory per key state is measured on the real, built `verifier/dist/main.js`. Plain
 * JavaScript, so the measured process loads no TypeScript loader.
 */
process.on('message', (message) => {
  if (message !== 'heap') return;
  globalThis.gc?.();
  globalThis.gc?.();
  const { heapUsed, arrayBuffers, rss } = process.memoryUsage();
  process.send?.({ heapUsed, arrayBuffers, rss });
});
