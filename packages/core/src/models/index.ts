export { type CausalLM, type GenerateOptions, generate, pickToken, stream } from './generate.js';
export {
  GPT,
  type GPTAttention,
  type GPTConfig,
  type GPTForward,
  type GPTForwardDetailed,
  type GPTOutputs,
} from './gpt.js';
