/// <reference types="vitest/config" />
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The server (Switchboard) serves dist/ at `/`; in `npm run dev` the API is proxied to it.
// API_URL, not SWITCHBOARD_*: the server refuses unknown SWITCHBOARD_ variables, and this one may be exported
const api = process.env.API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [svelte()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // hashed file names: the server may cache them forever
    assetsDir: 'assets',
    // no inline <script> (CSP script-src 'self'): the module preload polyfill is inlined otherwise
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: { proxy: { '/api': { target: api, changeOrigin: false } } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
});
