#!/usr/bin/env node
/** `warre-notification`: see src/cli/warre.ts. */
import { cli } from './warre.js';

cli('notification');
