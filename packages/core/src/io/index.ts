export {
  type Checkpoint,
  checkpointBytes,
  type LoadedCheckpoint,
  loadCheckpoint,
  readCheckpoint,
  saveCheckpoint,
} from './checkpoint.js';
export {
  type HostTensor,
  parseSafetensors,
  readSafetensors,
  type SafetensorsDType,
  type SafetensorsFile,
  type WritableTensor,
  writeSafetensors,
} from './safetensors.js';
