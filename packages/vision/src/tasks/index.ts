/** The vision tasks, in the order apps list them. */
import type { Task } from '@multihead/core';
import { fashionTask } from './fashion.js';
import { pixelsTask } from './pixels.js';

export const VISION_TASKS: readonly Task[] = [fashionTask, pixelsTask];
