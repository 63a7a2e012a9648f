import { defineConfig } from 'vite';

/**
 * The dashboard bundle: everything (scripts, styles, the chart library) is emitted as files
 * under dist/, served by the query service at /dashboard/ with a strict Content-Security-Policy,
 * so nothing inline and nothing from another host.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    // Everything is a file of its own: a data: URL script or an inline style would break the CSP.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1200,
    sourcemap: false,
  },
});
