export { importAtRunTime, importOptional } from '../run-time-import.js';
export { type CacheOptions, cacheDir, cachedBytes, cachedJSON, cacheRoot } from './cache.js';
export {
  type Checkpoint,
  checkpointBytes,
  type LoadedCheckpoint,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
export { writeFileAtomic } from './files.js';
export {
  type HostTensor,
  parseSafetensors,
  readSafetensors,
  type SafetensorsDType,
  type SafetensorsFile,
  type WritableTensor,
  writeSafetensors,
} from './safetensors.js';
