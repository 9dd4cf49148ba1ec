/** A checkpoint shipped in `packages/audio/checkpoints/` (from the sources or from the built dist/). */
import { tasks } from '@multihead/core';

export function committedCheckpoint(file: string): () => Promise<Uint8Array | null> {
  return () =>
    tasks.packageFile([
      new URL(`../../checkpoints/${file}`, import.meta.url), // from src/tasks/
      new URL(`../checkpoints/${file}`, import.meta.url), // from dist/
    ]);
}
