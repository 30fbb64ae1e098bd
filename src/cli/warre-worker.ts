#!/usr/bin/env node
/** `warre-worker`: see src/cli/warre.ts. */
import { cli } from './warre.js';

cli('worker');
