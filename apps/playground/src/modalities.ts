/**
 * The modality packages this app gathers, one line each: a task added to any of their tables appears in
 * the app with no other change. Each is a dynamic `import()`, so a modality's code (and its tasks'
 * checkpoints, fetched on demand) loads in the engine worker only when one of its tasks is opened; the
 * page lists the tasks from a manifest written at build time from this same table (scripts/prepare.ts).
 */
import type { Task } from '@multihead/core';

export interface LoadedModality {
  tasks: readonly Task[];
  /** The package's datasets as prepared files (`<name>.json`) and their Node loaders (scripts/prepare.ts). */
  datasets?: readonly { name: string; load(): Promise<unknown> }[];
  /** Where the package's dataset loaders fetch those files in a browser. */
  setDatasetBaseUrl?: (url: string) => void;
}

export const MODALITIES: Record<string, () => Promise<LoadedModality>> = {
  text: () =>
    import('@multihead/text').then((m) => ({
      tasks: m.TEXT_TASKS,
      datasets: m.TEXT_DATASETS,
      setDatasetBaseUrl: m.setDatasetBaseUrl,
    })),
  vision: () => import('@multihead/vision').then((m) => ({ tasks: m.VISION_TASKS })),
  audio: () => import('@multihead/audio').then((m) => ({ tasks: m.AUDIO_TASKS })),
  graph: () => import('@multihead/graph').then((m) => ({ tasks: m.GRAPH_TASKS })),
};
