export {
  MultiHeadAttention,
  type MultiHeadAttentionForward,
  type MultiHeadAttentionOptions,
} from './multihead-attention.js';
