/// <reference types="vite/client" />

/** The task manifest, written at build time from src/modalities.ts (plugins/task-manifest.ts). */
declare module 'virtual:multihead/tasks' {
  const tasks: import('./engine/protocol.js').TaskInfo[];
  export default tasks;
}
