// Preload (`node --import <this file>`): installs the resolve hook that
// records every module the process loads (see import-hooks.ts).
import { register } from 'node:module';

register('./import-hooks.js', import.meta.url);
