export {
  parseSafetensors, readSafetensors, writeSafetensors,
  type HostTensor, type SafetensorsDType, type SafetensorsFile, type WritableTensor,
} from './safetensors.js';
