/** The audio tasks, in the order apps list them. */
import type { Task } from '@multihead/core';
import { digitsTask } from './digits.js';
import { musicTask } from './music.js';

export const AUDIO_TASKS: readonly Task[] = [digitsTask, musicTask];
