/** The graph tasks, in the order apps list them. */
import type { Task } from '@multihead/core';
import { karateTask } from './karate.js';
import { moleculesTask } from './molecules.js';
import { pfamTask } from './pfam.js';
import { proteinTask } from './protein.js';

export const GRAPH_TASKS: readonly Task[] = [pfamTask, proteinTask, karateTask, moleculesTask];
