/** The device under test and comparison helpers: `@multihead/core/testing`, shared with the modality packages. */
export * from '../src/testing.js';
