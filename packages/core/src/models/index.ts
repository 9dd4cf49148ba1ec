export { GPT, type GPTConfig, type GPTForward } from './gpt.js';
