#!/usr/bin/env node
/** `warre-api`: see src/cli/warre.ts. */
import { cli } from './warre.js';

cli('api');
