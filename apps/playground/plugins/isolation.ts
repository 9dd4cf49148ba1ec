/**
 * The headers that make a page cross-origin isolated (`crossOriginIsolated === true`): SharedArrayBuffer,
 * and so the CPU backend's wasm kernels on several threads (packages/core/src/backend/wasm/runtime.ts).
 * Vite's dev and preview servers send them (vite.config.ts), the e2e test's server too; a host of the
 * static build must send them on every response (apps/playground/README.md).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
} as const;
