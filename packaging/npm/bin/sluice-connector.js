#!/usr/bin/env node
// The `sluice-connector` command of the installed package: the CLI of the bundled @sluice/connector.
import '../node_modules/@sluice/connector/dist/cli/main.js';
