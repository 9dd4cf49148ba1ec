/** The spam task's modules in one import (its test uses it); the package's public names are picked in ../../index.ts. */
export * from './baseline.js';
export * from './batching.js';
export * from './model.js';
export * from './options.js';
export * from './task.js';
