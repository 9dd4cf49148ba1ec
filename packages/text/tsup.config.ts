import { defineConfig } from 'tsup';
import { packageBuild } from '../../tools/config/tsup.js';

export default defineConfig(packageBuild({ webgpu: false }));
