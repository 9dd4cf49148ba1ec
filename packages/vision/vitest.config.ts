import { defineConfig } from 'vitest/config';
import { deviceTestProjects } from '../../tools/config/vitest.js';

export default defineConfig({ test: { projects: deviceTestProjects() } });
