/// <reference types="vite/client" />

/** The task manifest, written at build time from src/modalities.ts (plugins/task-manifest.ts). */
declare module 'virtual:multihead/tasks' {
  const tasks: import('./engine/protocol.js').TaskInfo[];
  export default tasks;
}

/** Loaders of the task modules named in PLAYGROUND_TASK_MODULES at build time (plugins/task-manifest.ts). */
declare module 'virtual:multihead/task-modules' {
  const loaders: Record<string, () => Promise<import('./modalities.js').LoadedModality>>;
  export default loaders;
}
