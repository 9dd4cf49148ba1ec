export { attentionLayerMaps } from './attention-maps.js';
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
export {
  describeInput,
  inputBytes,
  inputText,
  isFileInput,
  resolveParams,
  temperatureParam,
} from './inputs.js';
export { defineTask, TaskRegistry, taskModality } from './registry.js';
export { checkGoal, evalReport, goalMet } from './reports.js';
export { collectRun, resultRun, streamingRun } from './run.js';
export {
  budgetCosine,
  checkTrainOptions,
  saveTrainedModel,
  type TaskOptimizerHyper,
  type TaskTrainingHyper,
  type TaskTrainingPlan,
  type TaskTrainingRun,
  type TaskTrainOptions,
  type TaskTrainSummary,
  type TrainableTaskModel,
  taskOptimizer,
  trainAndSave,
  trainForTask,
  trainingPlan,
  trainingRecord,
  trainTaskModel,
} from './training.js';
export type * from './types.js';
