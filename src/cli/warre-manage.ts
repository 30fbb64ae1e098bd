#!/usr/bin/env node
/** `warre-manage`: see src/cli/warre.ts. */
import { cli } from './warre.js';

cli('manage');
