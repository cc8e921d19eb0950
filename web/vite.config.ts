/// <reference types="vitest/config" />
// Vite builds the client into dist/client, which web/web.go embeds.
import { defineConfig } from "vite";

export default defineConfig({
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    outDir: "dist/client",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    // The Rust crypto WebAssembly is large by nature and loads lazily.
    chunkSizeWarningLimit: 2000,
    // Inline nothing: the Content-Security-Policy forbids data: scripts.
    assetsInlineLimit: 0,
  },
  optimizeDeps: { exclude: ["@matrix-org/matrix-sdk-crypto-wasm"] },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
