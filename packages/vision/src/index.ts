/** @multihead/vision: see README.md at the repository root and docs/api.md. */
export {};
