#!/usr/bin/env node
import { launch } from './launch.js';

await launch('packages/platform/dist/cli/mdl.js', ['packages/protocol', 'packages/platform']);
