import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/config/tsup.js';

export default defineConfig(packageBuild({ entry: ['src/index.ts', 'src/testing.ts'], webgpu: true }));
