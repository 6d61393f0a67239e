#!/usr/bin/env node
import { launch } from './launch.js';

await launch('packages/hospital/dist/cli.js', ['packages/protocol', 'packages/hospital']);
