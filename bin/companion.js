#!/usr/bin/env node
'use strict';
// The CLI runs the compiled code (type-graphql needs tsc's decorator metadata; see docs/architecture.md).
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'src', 'cli', 'index.js');
if (!fs.existsSync(entry)) {
  console.error('companion: not built yet. Run `npm run build` (npm install does it for you).');
  process.exit(1);
}
require(entry).main(process.argv);
