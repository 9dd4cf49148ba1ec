export {
  folderStore,
  type LoadedTaskCheckpoint,
  loadTaskCheckpoint,
  memoryStore,
  packageFile,
  parseTaskCheckpoint,
  saveTaskCheckpoint,
  type TaskCheckpointMetadata,
} from './checkpoints.js';
export { describeInput, inputBytes, inputText, isFileInput, resolveParams } from './inputs.js';
export { defineTask, TaskRegistry, taskModality } from './registry.js';
export { checkGoal, evalReport, goalMet } from './reports.js';
export { collectRun, resultRun, streamingRun } from './run.js';
export {
  budgetCosine,
  checkTrainOptions,
  type TaskOptimizerHyper,
  type TaskTrainOptions,
  type TaskTrainSummary,
  taskOptimizer,
  trainForTask,
  trainingRecord,
} from './training.js';
export type * from './types.js';
