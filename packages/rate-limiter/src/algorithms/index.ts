import type { Algorithm } from '../types.js';
import type { AlgorithmImpl } from './algorithm.js';
import { fixedWindow } from './fixed-window.js';
import { gcra } from './gcra.js';
import { leakyBucket } from './leaky-bucket.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';

export const algorithms: Record<Algorithm, AlgorithmImpl<any>> = {
  'token-bucket': tokenBucket,
  'leaky-bucket': leakyBucket,
  'fixed-window': fixedWindow,
  'sliding-window': slidingWindow,
  gcra,
};

/** The Lua function name of each algorithm in the Redis script. */
export const luaNames: Record<Algorithm, string> = {
  'token-bucket': 'token_bucket',
  'leaky-bucket': 'leaky_bucket',
  'fixed-window': 'fixed_window',
  'sliding-window': 'sliding_window',
  gcra: 'gcra',
};

export const ALGORITHM_NAMES = Object.keys(algorithms) as Algorithm[];
