export {
  type HostTensor,
  parseSafetensors,
  readSafetensors,
  type SafetensorsDType,
  type SafetensorsFile,
  type WritableTensor,
  writeSafetensors,
} from './safetensors.js';
